package dev.fenced.lock.policy;

/**
 * Two policies whose patterns have equally long literal prefixes and can both match one lock name,
 * so for that name neither wins. An operator reports it as {@code Conflicting} on both.
 *
 * @param first one policy
 * @param firstPattern its pattern
 * @param second the other policy
 * @param secondPattern its pattern
 * @param example a lock name both patterns match
 */
public record PolicyConflict(
    PolicyRef first, String firstPattern, PolicyRef second, String secondPattern, String example) {

  public boolean involves(PolicyRef policy) {
    return first.equals(policy) || second.equals(policy);
  }

  /** The policy on the other side of the conflict from {@code policy}. */
  public PolicyRef other(PolicyRef policy) {
    return first.equals(policy) ? second : first;
  }

  /** A sentence for a status condition or a log line. */
  public String message() {
    return "pattern \""
        + firstPattern
        + "\" of "
        + first
        + " and pattern \""
        + secondPattern
        + "\" of "
        + second
        + " both match lock names such as \""
        + example
        + "\" with literal prefixes of equal length ("
        + new LockNamePattern(firstPattern).literalPrefixLength()
        + "), so neither policy governs them; make one pattern's literal prefix longer or remove"
        + " one";
  }

  @Override
  public String toString() {
    return message();
  }
}
