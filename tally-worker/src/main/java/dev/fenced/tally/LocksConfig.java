package dev.fenced.tally;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.Optional;

/** Where the LockPolicies and the Secrets they reference are read from. */
@ConfigMapping(prefix = "fenced")
public interface LocksConfig {

  /**
   * {@code kubernetes}, {@code directory} or {@code auto} (env FENCED_POLICY_SOURCE); auto is
   * kubernetes inside a pod (KUBERNETES_SERVICE_HOST set), directory elsewhere.
   */
  @WithName("policies.source")
  @WithDefault("auto")
  String policySource();

  /**
   * The namespace whose LockPolicies and Secrets are read (env FENCED_POLICY_NAMESPACE); default:
   * the Kubernetes client's namespace, in a pod its own.
   */
  @WithName("policies.namespace")
  Optional<String> policyNamespace();

  /** A folder of LockPolicy YAML files, watched for changes (env FENCED_POLICIES_DIR). */
  @WithName("policies.dir")
  String policiesDir();

  /** Secrets laid out {@code <dir>/<secret>/<key>} (env FENCED_SECRETS_DIR). */
  @WithName("secrets.dir")
  String secretsDir();
}
