package dev.fenced.tally;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;

/** Where the LockPolicy files and the Secrets they reference are read from. */
@ConfigMapping(prefix = "fenced")
public interface LocksConfig {

  /** A folder of LockPolicy YAML files, watched for changes (env FENCED_POLICIES_DIR). */
  @WithName("policies.dir")
  String policiesDir();

  /** Secrets laid out {@code <dir>/<secret>/<key>} (env FENCED_SECRETS_DIR). */
  @WithName("secrets.dir")
  String secretsDir();
}
