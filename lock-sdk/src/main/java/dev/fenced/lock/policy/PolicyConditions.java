package dev.fenced.lock.policy;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.Objects;
import java.util.Optional;

/**
 * The status conditions of a {@link LockPolicy}, as the operator writes them and services read
 * them. A service uses a policy only when {@link #isReadyForCurrentGeneration(LockPolicy)}.
 */
public final class PolicyConditions {

  public static final String READY = "Ready";
  public static final String BACKEND_REACHABLE = "BackendReachable";
  public static final String PROVISIONED = "Provisioned";
  public static final String CONFLICTING = "Conflicting";

  public static final String TRUE = "True";
  public static final String FALSE = "False";
  public static final String UNKNOWN = "Unknown";

  private PolicyConditions() {}

  /** The condition of that type, if the status carries it. */
  public static Optional<Condition> find(LockPolicy policy, String type) {
    LockPolicyStatus status = policy.getStatus();
    if (status == null || status.getConditions() == null) {
      return Optional.empty();
    }
    return status.getConditions().stream()
        .filter(c -> c != null && type.equals(c.getType()))
        .findFirst();
  }

  /**
   * True when the status describes the current spec ({@code status.observedGeneration ==
   * metadata.generation}) and its {@code Ready} condition is {@code True} for that generation. A
   * policy the operator has not yet seen, or whose latest change it has not yet reconciled, is not
   * ready: a service keeps the version it used before.
   */
  public static boolean isReadyForCurrentGeneration(LockPolicy policy) {
    Long generation = policy.getMetadata() == null ? null : policy.getMetadata().getGeneration();
    LockPolicyStatus status = policy.getStatus();
    if (generation == null || status == null) {
      return false;
    }
    if (!Objects.equals(generation, status.getObservedGeneration())) {
      return false;
    }
    return find(policy, READY)
        .filter(c -> TRUE.equals(c.getStatus()))
        .filter(
            c -> c.getObservedGeneration() == null || generation.equals(c.getObservedGeneration()))
        .isPresent();
  }
}
