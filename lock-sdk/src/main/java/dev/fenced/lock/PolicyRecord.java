package dev.fenced.lock;

import java.util.Objects;

/**
 * Which LockPolicy provisioned a backend's resources, as the operator writes it next to them (a
 * Redis hash, an etcd key), so whoever finds the keys can tell who owns them and in which epoch.
 * Carries no secret.
 *
 * @param policy {@code <namespace>/<name>} of the LockPolicy
 * @param uid the LockPolicy's {@code metadata.uid}, so a re-created policy of the same name is told
 *     apart
 * @param generation the {@code metadata.generation} last provisioned
 * @param epoch the fencing epoch of that generation
 */
public record PolicyRecord(String policy, String uid, long generation, long epoch) {

  public PolicyRecord {
    if (policy == null || policy.isBlank() || policy.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("policy must be <namespace>/<name>, was " + policy);
    }
    Objects.requireNonNull(uid, "uid must be set");
    if (generation < 0 || epoch < 0) {
      throw new IllegalArgumentException(
          "generation and epoch must not be negative, were " + generation + " and " + epoch);
    }
  }

  /** One line of JSON, the form the record takes where the backend stores a single value. */
  public String toJson() {
    return "{\"policy\":\""
        + policy.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\",\"uid\":\""
        + uid.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\",\"generation\":"
        + generation
        + ",\"epoch\":"
        + epoch
        + "}";
  }
}
