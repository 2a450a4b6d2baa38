package dev.fenced.lock.fencing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Lua guard for data kept in Redis: the hash is written only when the writer's token is not older
 * than the one stored in its {@value #FENCE_FIELD} field.
 *
 * <p>Tokens are compared as decimal strings (length first), not as Lua numbers, because Lua numbers
 * are doubles and lose precision above 2^53.
 */
public final class RedisFencing {

  /** The hash field that keeps the newest token written. */
  public static final String FENCE_FIELD = "_fence";

  /**
   * KEYS[1] the hash; ARGV[1] the token; ARGV[2..] field, value pairs. Returns 1 when written, 0
   * when the stored token is newer.
   */
  public static final String GUARDED_HSET =
      """
      local stored = redis.call('HGET', KEYS[1], '_fence')
      local token = ARGV[1]
      if stored and (#stored > #token or (#stored == #token and stored > token)) then
        return 0
      end
      redis.call('HSET', KEYS[1], '_fence', token, unpack(ARGV, 2))
      return 1
      """;

  private RedisFencing() {}

  /** ARGV for {@link #GUARDED_HSET}. */
  public static List<String> guardedHsetArgs(long token, Map<String, String> fields) {
    if (token < 0) {
      throw new IllegalArgumentException("token must not be negative, was " + token);
    }
    List<String> args = new ArrayList<>(1 + 2 * fields.size());
    args.add(Long.toString(token));
    fields.forEach(
        (field, value) -> {
          if (FENCE_FIELD.equals(field)) {
            throw new IllegalArgumentException("field '" + FENCE_FIELD + "' is reserved");
          }
          args.add(field);
          args.add(value);
        });
    return args;
  }
}
