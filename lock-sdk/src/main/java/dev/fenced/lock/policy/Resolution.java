package dev.fenced.lock.policy;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;

/**
 * The policy that governs a lock name, and the pattern through which it does.
 *
 * @param policy the governing policy
 * @param pattern the policy's pattern that matched with the longest literal prefix
 */
public record Resolution(LockPolicy policy, String pattern) {

  public PolicyRef ref() {
    return PolicyRef.of(policy);
  }

  @Override
  public String toString() {
    return ref() + " (pattern \"" + pattern + "\")";
  }
}
