package dev.fenced.lock.redis;

/**
 * Key layout. The lock name is the hash tag, so a lock's two keys share one cluster slot and one
 * script may touch both: {@code <prefix>:{<name>}:lock} holds the owner with the lease as its TTL,
 * {@code <prefix>:{<name>}:fence} the counter behind the fencing tokens, kept forever, and {@code
 * <prefix>:{<name>}:waiting} a flag that a refused attempt raises and the next release clears.
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

  /** Where releases are published, the lock name as the message. */
  String releaseChannel() {
    return prefix + ":released";
  }

  /** The hash of policy records: field {@code <namespace>/<name>}, value its JSON record. */
  String policies() {
    return prefix + ":policies";
  }
}
