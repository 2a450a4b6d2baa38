package dev.fenced.lock.quarkus;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/**
 * Where a service reads its LockPolicies and the Secrets they reference ({@code fenced.policies.*},
 * {@code fenced.secrets.*}; environment {@code FENCED_*}).
 */
@ConfigMapping(prefix = "fenced")
public interface LocksConfig {

  Policies policies();

  Secrets secrets();

  interface Policies {
    /**
     * Where policies come from: {@code kubernetes}, {@code directory} or {@code auto} (env {@code
     * FENCED_POLICY_SOURCE}); auto is kubernetes inside a pod ({@code KUBERNETES_SERVICE_HOST}
     * set), directory elsewhere.
     */
    @WithDefault("auto")
    String source();

    /**
     * The namespace whose LockPolicies and Secrets are read (env {@code FENCED_POLICY_NAMESPACE});
     * default: the Kubernetes client's namespace, in a pod its own.
     */
    Optional<String> namespace();

    /**
     * The folder of LockPolicy YAML files, followed as it changes (env {@code
     * FENCED_POLICIES_DIR}); required with the directory source.
     */
    Optional<String> dir();
  }

  interface Secrets {
    /**
     * The folder of Secrets the policies reference, laid out {@code <dir>/<secret>/<key>} (env
     * {@code FENCED_SECRETS_DIR}), used with the directory source; without it, such policies cannot
     * be built. With the kubernetes source Secrets are read from the policies' namespace.
     */
    Optional<String> dir();
  }
}
