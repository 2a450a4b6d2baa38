package dev.fenced.lock.redis;

import java.util.List;

/** The three scripts behind a hold; each is one atomic step on the server. */
final class LockScripts {

  private LockScripts() {}

  /**
   * How far apart the fence floor's recorded values are: the floor is raised once every this many
   * tokens of a name, not at every acquire.
   */
  static final long FENCE_FLOOR_STEP = 1024;

  /**
   * The Lua function behind every fencing token: {@code nextFence(fence, floor)} increments the
   * name's counter {@code fence} and keeps the prefix's fence floor {@code floor} true, a multiple
   * of {@link #FENCE_FLOOR_STEP} with every counter of the prefix below {@code floor + step}. A
   * counter that is missing (a new name, or one whose key was deleted or evicted) starts at {@code
   * floor + step}, above every token the prefix issued, instead of at 1: a deleted fence key never
   * hands out a token again. The floor costs one {@code EXISTS} per token and a {@code SET} once
   * every step tokens of a name or at a name's first token.
   */
  private static final String NEXT_FENCE =
      """
      local function nextFence(fence, floor)
        local step = %d
        local n
        if redis.call('EXISTS', fence) == 0 then
          redis.call('SET', fence, redis.call('GET', floor) or '0')
          n = redis.call('INCRBY', fence, step)
        else
          n = redis.call('INCR', fence)
        end
        if n %% step == 0 and n > tonumber(redis.call('GET', floor) or '0') then
          redis.call('SET', floor, string.format('%%d', n))
        end
        return n
      end
      """
          .formatted(FENCE_FLOOR_STEP);

  /**
   * KEYS[1] lock, KEYS[2] fence, KEYS[3] waiting flag, KEYS[4] the incarnation marker, KEYS[5] the
   * fence floor ({@link #NEXT_FENCE}), KEYS[6] the line, KEYS[7] the turn; ARGV[1] owner, ARGV[2]
   * lease in ms, ARGV[3] the marker the service's epoch was confirmed for, or empty before any
   * confirmation, ARGV[4] the attempting service's id, ARGV[5] the {@code run_id} of the server the
   * epoch was confirmed on, or empty. Returns {@code {-1, 0}} when the server no longer has that
   * marker (it lost its keys) or is not that server process (a restart, or a replica promoted by a
   * failover, which may lack the last fence increments): no hold is granted on it until the epoch
   * rises. The {@code run_id} costs one {@code INFO server} inside the script, a few microseconds
   * per acquire, and closes the window in which a promoted replica would hand out a token again
   * before the next incarnation check.
   *
   * <p>Otherwise {@code {1, fence}} when the lock was free, and no other service has the turn, and
   * is now ours; else {@code {0, ms}}: how long the current hold (or the other service's turn)
   * lasts at most, so a waiter need not sleep past it. A refused attempt raises the waiting flag,
   * so the release of the current hold knows to publish; the flag holds the id of the one service
   * refused so far, {@code *} once several were (any other value, e.g. an older client's {@code 1},
   * counts as another service). It also puts the service at the end of the line unless it is in it
   * already; the line expires two leases after the last refusal, so a line nobody waits in goes.
   */
  static final RedisScript ACQUIRE =
      new RedisScript(
          "acquire",
          NEXT_FENCE
              + """
          if ARGV[3] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[3] then
            return {-1, 0}
          end
          if ARGV[5] ~= '' and
              not string.find(redis.call('INFO', 'server'), 'run_id:' .. ARGV[5], 1, true) then
            return {-1, 0}
          end
          local turn = redis.call('GET', KEYS[7])
          if (not turn or turn == ARGV[4]) and
              redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
            if turn then
              redis.call('DEL', KEYS[7])
            end
            redis.call('LREM', KEYS[6], 0, ARGV[4])
            return {1, nextFence(KEYS[2], KEYS[5])}
          end
          local waiting = redis.call('GET', KEYS[3])
          if not waiting then
            redis.call('SET', KEYS[3], ARGV[4])
          elseif waiting ~= ARGV[4] then
            redis.call('SET', KEYS[3], '*')
          end
          if not redis.call('LPOS', KEYS[6], ARGV[4]) then
            redis.call('RPUSH', KEYS[6], ARGV[4])
          end
          redis.call('PEXPIRE', KEYS[6], 2 * tonumber(ARGV[2]))
          local wait = redis.call('PTTL', KEYS[1])
          if turn then
            wait = math.max(wait, redis.call('PTTL', KEYS[7]))
          end
          return {0, wait}
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
   * The turn: how a release chooses among the services that wait. The {@code line} lists the
   * services refused since it was last empty, each once, in the order of their first refusal. A
   * release takes the first service in line other than the releasing one and gives it the {@code
   * turn} for ARGV[5] ms: until it acquires or the turn lapses, every other service's attempt is
   * refused. So services take the lock in the order they asked for it, instead of racing after each
   * release, where the releasing service, woken first, wins most. A turn nobody takes (its service
   * gave up or died) costs the others that long, once. Returns the service whose turn it is, or
   * false when nobody else is in line.
   */
  private static final String GIVE_TURN =
      """
      local function giveTurn(line, turn, service, turnMillis)
        redis.call('LREM', line, 0, service)
        local nextService = redis.call('LPOP', line)
        if nextService then
          redis.call('SET', turn, nextService, 'PX', turnMillis)
        end
        return nextService
      end
      """;

  /**
   * KEYS[1] lock, KEYS[2] waiting flag, KEYS[3] line, KEYS[4] turn; ARGV[1] owner, ARGV[2] release
   * channel, ARGV[3] lock name, ARGV[4] the releasing service's id, ARGV[5] how long a turn lasts
   * in ms ({@link #GIVE_TURN}). Deletes the lock only when it is ours; returns 1 when deleted, else
   * 0. Publishes the release to every client only when an attempt was refused since the last
   * publish (the waiting flag) or a service waits in line: an uncontended release wakes nobody's
   * subscriber. Scripts run one at a time, so a refusal is either before this release (flag seen)
   * or after it (that waiter's next holder publishes).
   */
  static final RedisScript RELEASE =
      new RedisScript(
          "release",
          GIVE_TURN
              + """
          if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('DEL', KEYS[1])
            local nextService = giveTurn(KEYS[3], KEYS[4], ARGV[4], ARGV[5])
            if redis.call('DEL', KEYS[2]) == 1 or nextService then
              redis.call('PUBLISH', ARGV[2], ARGV[3])
            end
            return 1
          end
          return 0
          """);

  /**
   * Release straight to a waiter of the releasing service, in the same round trip. KEYS[1] lock,
   * KEYS[2] waiting flag, KEYS[3] fence, KEYS[4] the fence floor, KEYS[5] line, KEYS[6] turn;
   * ARGV[1] owner, ARGV[2] release channel, ARGV[3] lock name, ARGV[4] the releasing service's id,
   * ARGV[5] the waiter's new owner id, ARGV[6] lease in ms, ARGV[7] how long a turn lasts in ms.
   *
   * <p>When the lock is ours and no other service waits (none in line, and the flag is unset or
   * holds only this service's id), the lock passes to the new owner with the next fence: returns
   * {@code {2, fence}}. When another service waits, this is {@link #RELEASE} (the turn to the first
   * service in line, delete and publish): returns {@code {1}}; the releasing service's waiter then
   * queues behind the others. When the lock is not ours: {@code {0}}. A service keeps a lock for
   * its own waiters only while nobody else asks for it.
   */
  static final RedisScript HAND_OFF =
      new RedisScript(
          "hand-off",
          NEXT_FENCE
              + GIVE_TURN
              + """
          if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return {0}
          end
          local waiting = redis.call('GET', KEYS[2])
          local nextService = giveTurn(KEYS[5], KEYS[6], ARGV[4], ARGV[7])
          if not nextService and (not waiting or waiting == ARGV[4]) then
            redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[6])
            redis.call('DEL', KEYS[2])
            return {2, nextFence(KEYS[3], KEYS[4])}
          end
          redis.call('DEL', KEYS[1])
          redis.call('DEL', KEYS[2])
          redis.call('PUBLISH', ARGV[2], ARGV[3])
          return {1}
          """);

  /**
   * KEYS[1] the fence floor; ARGV[1] a multiple of {@link #FENCE_FLOOR_STEP}. Raises the floor to
   * ARGV[1] unless it is already as high; never lowers it. Returns the floor afterwards.
   */
  static final RedisScript RAISE_FENCE_FLOOR =
      new RedisScript(
          "raise-fence-floor",
          """
          local floor = tonumber(redis.call('GET', KEYS[1]) or '0')
          if tonumber(ARGV[1]) > floor then
            redis.call('SET', KEYS[1], ARGV[1])
            return tonumber(ARGV[1])
          end
          return floor
          """);

  static final List<RedisScript> ALL =
      List.of(ACQUIRE, RENEW, RELEASE, HAND_OFF, RAISE_FENCE_FLOOR);
}
