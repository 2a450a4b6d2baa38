package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

import dev.fenced.lock.policy.LockPolicyValidator;
import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.PolicyConflict;
import dev.fenced.lock.policy.PolicyRef;
import dev.fenced.lock.policy.PolicyResolver;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Which policies tie on some lock names. Lock names are resolved per namespace (a service reads the
 * policies of its own namespace), so only valid, not-being-deleted policies of one namespace can
 * conflict.
 */
final class Conflicts {

  private Conflicts() {}

  /** The conflicts {@code policy} has with the others in {@code all}. */
  static List<PolicyConflict> of(LockPolicy policy, Collection<LockPolicy> all) {
    PolicyRef self = PolicyRef.of(policy);
    List<LockPolicy> candidates = new ArrayList<>(sameNamespace(active(all), policy));
    candidates.removeIf(p -> PolicyRef.of(p).equals(self));
    candidates.add(policy);
    return PolicyResolver.conflicts(candidates).stream().filter(x -> x.involves(self)).toList();
  }

  /**
   * The policies a change of {@code changed} can affect: those that conflict with it now, and those
   * whose status says they conflicted (the change or deletion may have ended it).
   */
  static Set<ResourceID> peersOf(LockPolicy changed, Collection<LockPolicy> all) {
    Set<ResourceID> out = new HashSet<>();
    PolicyRef self = PolicyRef.of(changed);
    for (LockPolicy other : all) {
      if (!PolicyRef.of(other).equals(self)
          && PolicyConditions.find(other, CONFLICTING)
              .filter(c -> TRUE.equals(c.getStatus()))
              .isPresent()) {
        out.add(ResourceID.fromResource(other));
      }
    }
    List<LockPolicy> candidates = new ArrayList<>(sameNamespace(active(all), changed));
    if (changed.getMetadata().getDeletionTimestamp() == null && isValid(changed)) {
      candidates.removeIf(p -> PolicyRef.of(p).equals(self));
      candidates.add(changed);
      for (PolicyConflict conflict : PolicyResolver.conflicts(candidates)) {
        if (conflict.involves(self)) {
          PolicyRef other = conflict.other(self);
          out.add(new ResourceID(other.name(), other.namespace()));
        }
      }
    }
    return out;
  }

  /** The valid policies not being deleted. */
  static List<LockPolicy> active(Collection<LockPolicy> all) {
    return all.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(Conflicts::isValid)
        .toList();
  }

  static boolean isValid(LockPolicy policy) {
    return LockPolicyValidator.validate(policy).isEmpty();
  }

  private static List<LockPolicy> sameNamespace(List<LockPolicy> all, LockPolicy policy) {
    String namespace = policy.getMetadata().getNamespace();
    return all.stream()
        .filter(p -> Objects.equals(p.getMetadata().getNamespace(), namespace))
        .toList();
  }
}
