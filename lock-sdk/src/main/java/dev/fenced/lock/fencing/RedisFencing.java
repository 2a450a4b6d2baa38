package dev.fenced.lock.fencing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Lua guard for data kept in Redis: the hash is written only when the writer's token is larger
 * than the one stored in its {@value #FENCE_FIELD} field, or equal to it and from the same hold
 * (the {@value #HOLDER_FIELD} field). A hash written before holders were recorded has no holder
 * field and accepts an equal token as before; the write records its holder.
 *
 * <p>Tokens are compared as decimal strings (length first), not as Lua numbers, because Lua numbers
 * are doubles and lose precision above 2^53.
 */
public final class RedisFencing {

  /** The hash field that keeps the newest token written. */
  public static final String FENCE_FIELD = "_fence";

  /** The hash field that keeps the identity of the hold that wrote {@link #FENCE_FIELD}. */
  public static final String HOLDER_FIELD = "_holder";

  /**
   * KEYS[1] the hash; ARGV[1] the token; ARGV[2] the holder; ARGV[3..] field, value pairs. Returns
   * 1 when written, 0 when the stored token is newer, or equal and another holder's.
   */
  public static final String GUARDED_HSET =
      """
      local stored = redis.call('HGET', KEYS[1], '_fence')
      local token = ARGV[1]
      if stored then
        if #stored > #token or (#stored == #token and stored > token) then
          return 0
        end
        if stored == token then
          local holder = redis.call('HGET', KEYS[1], '_holder')
          if holder and holder ~= ARGV[2] then
            return 0
          end
        end
      end
      redis.call('HSET', KEYS[1], '_fence', token, '_holder', ARGV[2], unpack(ARGV, 3))
      return 1
      """;

  private RedisFencing() {}

  /** ARGV for {@link #GUARDED_HSET}. */
  public static List<String> guardedHsetArgs(Fence fence, Map<String, String> fields) {
    Objects.requireNonNull(fence, "fence");
    List<String> args = new ArrayList<>(2 + 2 * fields.size());
    args.add(Long.toString(fence.token()));
    args.add(fence.holder());
    fields.forEach(
        (field, value) -> {
          if (FENCE_FIELD.equals(field) || HOLDER_FIELD.equals(field)) {
            throw new IllegalArgumentException("field '" + field + "' is reserved");
          }
          args.add(field);
          args.add(value);
        });
    return args;
  }
}
