package dev.fenced.lock;

/**
 * The one rule for lock names, whatever the backend. A LockPolicy can move a family of locks from
 * one backend to another, so a name that one backend accepts must work on every other: each
 * backend's encoder (Redis keys, etcd keys, ZooKeeper nodes, Lease names, PostgreSQL text) relies
 * on this rule and on nothing narrower.
 *
 * <p>A name is 1 to {@value #MAX_LENGTH} characters of Unicode text:
 *
 * <ul>
 *   <li>not blank, and without control characters;
 *   <li>without unpaired surrogates: UTF-8, which every backend stores, cannot hold one, so an
 *       encoder would replace it with {@code ?} and two different names would become one lock;
 *   <li>not starting with <code>&#125;</code>: Redis Cluster hashes only the part of a key between
 *       the first <code>&#123;</code> and the next <code>&#125;</code>, and the Redis backend puts
 *       the name there so that a lock's keys share one slot; a leading <code>&#125;</code> would
 *       leave that part empty and scatter the keys.
 * </ul>
 */
public final class LockNames {

  /**
   * Longest accepted name, in characters; long enough for {@code vote:{poll}:{option}} with
   * 128-character ids.
   */
  public static final int MAX_LENGTH = 512;

  private LockNames() {}

  /**
   * @return {@code name}
   * @throws IllegalArgumentException naming the field {@code name} and the problem when it breaks
   *     the rule
   */
  public static String check(String name) {
    String problem = problem(name);
    if (problem != null) {
      throw new IllegalArgumentException("name " + problem);
    }
    return name;
  }

  /**
   * What is wrong with {@code name}, as the end of a sentence that starts with the field ("must not
   * be blank"), or null when it follows the rule.
   */
  public static String problem(String name) {
    if (name == null || name.isBlank()) {
      return "must not be blank";
    }
    if (name.length() > MAX_LENGTH) {
      return "must be at most " + MAX_LENGTH + " characters, was " + name.length();
    }
    if (name.charAt(0) == '}') {
      return "must not start with '}' (Redis Cluster would hash the keys of the lock apart)";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isISOControl(c)) {
        return "must not contain control characters (found one at index " + i + ")";
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < name.length()
          && Character.isLowSurrogate(name.charAt(i + 1))) {
        i++; // a pair: one character outside the Basic Multilingual Plane
      } else if (Character.isSurrogate(c)) {
        return "must not contain an unpaired surrogate (found one at index "
            + i
            + "); it has no UTF-8 form";
      }
    }
    return null;
  }
}
