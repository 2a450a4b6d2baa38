package dev.fenced.lock;

import java.util.Objects;

/**
 * Which LockPolicy a backend's resources were provisioned for, as the operator hands it to {@link
 * LockAdmin#deprovision}; the backend's ledger ({@code dev.fenced.lock.ledger}) keeps the same
 * facts beyond the policy's life. Carries no secret.
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
}
