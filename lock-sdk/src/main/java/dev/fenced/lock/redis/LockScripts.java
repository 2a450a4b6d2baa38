package dev.fenced.lock.redis;

import java.util.List;

/** The three scripts behind a hold; each is one atomic step on the server. */
final class LockScripts {

  private LockScripts() {}

  /**
   * KEYS[1] lock, KEYS[2] fence, KEYS[3] waiting flag, KEYS[4] the incarnation marker; ARGV[1]
   * owner, ARGV[2] lease in ms, ARGV[3] the marker the service's epoch was confirmed for, or empty
   * before any confirmation. Returns {@code {-1, 0}} when the server no longer has that marker (it
   * lost its keys, or it is another server): no hold is granted on it until the epoch rises.
   * Otherwise {@code {1, fence}} when the lock was free and is now ours, else {@code {0, pttl}}:
   * how long the current hold lasts at most, so a waiter need not sleep past it. A refused attempt
   * raises the waiting flag, so the release of the current hold knows to publish.
   */
  static final RedisScript ACQUIRE =
      new RedisScript(
          "acquire",
          """
          if ARGV[3] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[3] then
            return {-1, 0}
          end
          if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
            return {1, redis.call('INCR', KEYS[2])}
          end
          redis.call('SET', KEYS[3], '1')
          return {0, redis.call('PTTL', KEYS[1])}
          """);

  /**
   * KEYS[1] lock; ARGV[1] owner, ARGV[2] lease in ms. Returns 1 when the lock is still ours and its
   * lease was extended, 0 when someone else holds it or nobody does.
   */
  static final RedisScript RENEW =
      new RedisScript(
          "renew",
          """
          if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
          end
          return 0
          """);

  /**
   * KEYS[1] lock, KEYS[2] waiting flag; ARGV[1] owner, ARGV[2] release channel, ARGV[3] lock name.
   * Deletes the lock only when it is ours; returns 1 when deleted, else 0. Publishes the release to
   * every client only when an attempt was refused since the last publish (the waiting flag): an
   * uncontended release wakes nobody's subscriber. Scripts run one at a time, so a refusal is
   * either before this release (flag seen) or after it (that waiter's next holder publishes).
   */
  static final RedisScript RELEASE =
      new RedisScript(
          "release",
          """
          if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('DEL', KEYS[1])
            if redis.call('DEL', KEYS[2]) == 1 then
              redis.call('PUBLISH', ARGV[2], ARGV[3])
            end
            return 1
          end
          return 0
          """);

  static final List<RedisScript> ALL = List.of(ACQUIRE, RENEW, RELEASE);
}
