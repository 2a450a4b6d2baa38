package dev.fenced.lock.redis;

/**
 * Key layout. The lock name is the hash tag, so a lock's keys share one cluster slot (the acquire
 * script also reads the one incarnation marker, so a Redis Cluster would need one per slot; fenced
 * connects to one server, directly or through Sentinel): {@code <prefix>:{<name>}:lock} holds the
 * owner with the lease as its TTL, {@code <prefix>:{<name>}:fence} the counter behind the fencing
 * tokens, kept forever, {@code <prefix>:{<name>}:waiting} a flag that a refused attempt raises and
 * the next release clears, {@code <prefix>:{<name>}:line} the services waiting for the lock in the
 * order they asked, and {@code <prefix>:{<name>}:turn} the service a release chose to hold next.
 *
 * <p>Redis Cluster hashes the part between the first <code>&#123;</code> and the next <code>&#125;
 * </code>: the whole name, or its beginning up to a <code>&#125;</code> it holds, the same for all
 * three keys. {@link dev.fenced.lock.LockNames} refuses names that start with <code>&#125;</code>,
 * which would leave that part empty and let Redis hash each whole key to its own slot.
 */
final class RedisKeys {

  private final String prefix;

  RedisKeys(String prefix) {
    RedisLockConfig.checkPrefix(prefix);
    this.prefix = prefix;
  }

  String lock(String name) {
    return prefix + ":{" + name + "}:lock";
  }

  String fence(String name) {
    return prefix + ":{" + name + "}:fence";
  }

  /** Set by a refused attempt, cleared by the next release, which then publishes. */
  String waiting(String name) {
    return prefix + ":{" + name + "}:waiting";
  }

  /** The services refused the lock, each once, in the order of their first refusal (a list). */
  String line(String name) {
    return prefix + ":{" + name + "}:line";
  }

  /** The service whose turn it is to hold, for a short while after a release chose it. */
  String turn(String name) {
    return prefix + ":{" + name + "}:turn";
  }

  /**
   * The fence floor: a value every fence counter of the prefix stays below, by less than {@link
   * LockScripts#FENCE_FLOOR_STEP}; a counter that is missing starts above it.
   */
  String fenceFloor() {
    return prefix + ":fence-floor";
  }

  /** A {@code SCAN MATCH} pattern for every fence counter of the prefix. */
  String fencePattern() {
    return glob(prefix) + ":{*}:fence";
  }

  private static String glob(String literal) {
    StringBuilder out = new StringBuilder(literal.length());
    for (char c : literal.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        out.append('\\');
      }
      out.append(c);
    }
    return out.toString();
  }

  /** Where releases are published, the lock name as the message. */
  String releaseChannel() {
    return prefix + ":released";
  }

  /** The ledger of the policies that used this prefix (one JSON document). */
  String ledger() {
    return prefix + ":ledger";
  }

  /**
   * The incarnation marker: a random id set once by provisioning; a server that lost its data (or a
   * replica promoted before it had it) has none, or another.
   */
  String incarnation() {
    return prefix + ":incarnation";
  }
}
