package dev.fenced.lock.policy;

import dev.fenced.lock.LockNames;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the policy that governs a lock name: among the policies with a matching pattern, the one
 * whose pattern has the longest literal prefix (the characters before the first {@code *} or {@code
 * ?}). When two or more policies tie, none governs the name: {@link #resolve} fails naming them
 * all, and {@link #conflicts} lists such pairs up front so they can be reported before any lock is
 * asked for.
 *
 * <p>Immutable and thread-safe; build a new one when the set of policies changes. The caller
 * decides which policies take part (typically those that are valid and Ready).
 */
public final class PolicyResolver {

  private record Entry(LockPolicy policy, PolicyRef ref, LockNamePattern pattern) {}

  private final List<Entry> entries;

  /**
   * @throws IllegalArgumentException when two of the policies share namespace and name
   */
  public PolicyResolver(Collection<LockPolicy> policies) {
    this.entries = entries(policies);
  }

  /**
   * The policy governing {@code lockName}, or empty when no pattern matches it.
   *
   * @throws ConflictingPoliciesException when policies tie on it, naming each with its pattern
   * @throws IllegalArgumentException when the name itself is not a valid lock name
   */
  public Optional<Resolution> resolve(String lockName) {
    LockNames.check(lockName);
    // The best pattern of each policy; one policy matching twice is no tie.
    Map<PolicyRef, Entry> best = new LinkedHashMap<>();
    int longest = -1;
    for (Entry e : entries) {
      if (e.pattern.matches(lockName)) {
        Entry previous = best.get(e.ref);
        if (previous == null
            || e.pattern.literalPrefixLength() > previous.pattern.literalPrefixLength()) {
          best.put(e.ref, e);
        }
        longest = Math.max(longest, e.pattern.literalPrefixLength());
      }
    }
    List<Resolution> winners = new ArrayList<>();
    for (Entry e : best.values()) {
      if (e.pattern.literalPrefixLength() == longest) {
        winners.add(new Resolution(e.policy, e.pattern.text()));
      }
    }
    if (winners.size() > 1) {
      throw new ConflictingPoliciesException(lockName, winners);
    }
    return winners.stream().findFirst();
  }

  /** Every pair of these policies that could tie on some lock name; see {@link #conflicts()}. */
  public static List<PolicyConflict> conflicts(Collection<LockPolicy> policies) {
    return new PolicyResolver(policies).conflicts();
  }

  /**
   * Every pair of patterns, from two different policies, whose literal prefixes are equally long
   * and that both match at least one lock name; each comes with such a name.
   *
   * <p>The check is conservative: it does not ask whether a third, more specific pattern would take
   * every name the pair shares. Such a pair is still reported, since the tie comes back the moment
   * that third pattern goes away.
   */
  public List<PolicyConflict> conflicts() {
    List<PolicyConflict> out = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Entry a = entries.get(i);
      for (int j = i + 1; j < entries.size(); j++) {
        Entry b = entries.get(j);
        if (a.ref.equals(b.ref)
            || a.pattern.literalPrefixLength() != b.pattern.literalPrefixLength()) {
          continue;
        }
        a.pattern
            .commonMatch(b.pattern)
            .ifPresent(
                example ->
                    out.add(
                        new PolicyConflict(
                            a.ref, a.pattern.text(), b.ref, b.pattern.text(), example)));
      }
    }
    return out;
  }

  private static List<Entry> entries(Collection<LockPolicy> policies) {
    List<Entry> out = new ArrayList<>();
    Map<PolicyRef, LockPolicy> seen = new HashMap<>();
    for (LockPolicy policy : policies) {
      PolicyRef ref = PolicyRef.of(policy);
      LockPolicy earlier = seen.putIfAbsent(ref, policy);
      if (earlier != null && earlier != policy) {
        throw new IllegalArgumentException("LockPolicy " + ref + " is given twice");
      }
      if (policy.getSpec() == null || policy.getSpec().getLockNames() == null) {
        continue;
      }
      for (String pattern : policy.getSpec().getLockNames()) {
        if (pattern != null && !pattern.isBlank()) {
          out.add(new Entry(policy, ref, new LockNamePattern(pattern)));
        }
      }
    }
    return List.copyOf(out);
  }
}
