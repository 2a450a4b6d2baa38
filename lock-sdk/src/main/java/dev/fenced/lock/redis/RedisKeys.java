package dev.fenced.lock.redis;

/**
 * Key layout. The lock name is the hash tag, so a lock's keys share one cluster slot (the acquire
 * script also reads the one incarnation marker, so a Redis Cluster would need one per slot; fenced
 * connects to one server, directly or through Sentinel): {@code <prefix>:{<name>}:lock} holds the
 * owner with the lease as its TTL, {@code <prefix>:{<name>}:fence} the counter behind the fencing
 * tokens, kept forever, and {@code <prefix>:{<name>}:waiting} a flag that a refused attempt raises
 * and the next release clears.
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
