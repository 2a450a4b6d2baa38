package dev.fenced.lock.quarkus;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/**
 * Where a service reads its LockPolicies and the Secrets they reference ({@code fenced.policies.*},
 * {@code fenced.secrets.*}), and what its holds assume of the machine ({@code fenced.lock.*});
 * environment {@code FENCED_*}.
 */
@ConfigMapping(prefix = "fenced")
public interface LocksConfig {

  Policies policies();

  Secrets secrets();

  Lock lock();

  interface Lock {
    /**
     * How much faster a lock backend's clock may run than this process's, as a fraction of the
     * lease (env {@code FENCED_LOCK_CLOCK_DRIFT}; at least 0, below 0.5): every hold is trusted for
     * the lease less this share of it, so {@code lost()} fires before the backend can give the lock
     * to someone else although this machine's clock runs that much slow. The default, 0.01, is the
     * Redlock factor; raise it on machines whose clocks are not disciplined (no NTP, VMs that are
     * paused and resumed).
     */
    @WithDefault("0.01")
    double clockDrift();
  }

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
