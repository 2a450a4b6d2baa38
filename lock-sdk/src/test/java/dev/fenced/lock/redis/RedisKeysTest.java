package dev.fenced.lock.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.LockNames;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisKeysTest {

  private final RedisKeys keys = new RedisKeys("fenced");

  /**
   * What Redis Cluster hashes: the part between the first '{' and the next '}' when it is not
   * empty, else the whole key.
   */
  private static String hashed(String key) {
    int open = key.indexOf('{');
    if (open >= 0) {
      int close = key.indexOf('}', open + 1);
      if (close > open + 1) {
        return key.substring(open + 1, close);
      }
    }
    return key;
  }

  @Test
  void theKeysOfALockShareOneClusterSlotForEveryValidName() {
    for (String name : List.of("vote:cats-vs-dogs:cat", "a}b", "{x}", "x{y", "ü")) {
      String tag = hashed(keys.lock(name));
      assertThat(tag).as(name).isNotEmpty().isNotEqualTo(keys.lock(name));
      assertThat(hashed(keys.fence(name))).as(name).isEqualTo(tag);
      assertThat(hashed(keys.waiting(name))).as(name).isEqualTo(tag);
    }
  }

  @Test
  void aNameStartingWithAClosingBraceWouldScatterItsKeysAndIsRefused() {
    String name = "}b";
    assertThat(hashed(keys.lock(name))).isNotEqualTo(hashed(keys.fence(name)));
    assertThatThrownBy(() -> LockNames.check(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("name must not start with '}'");
  }

  @Test
  void theFencePatternMatchesOnlyThePrefixsFenceKeysWhateverThePrefixHolds() {
    assertThat(keys.fencePattern()).isEqualTo("fenced:{*}:fence");
    // Glob characters in a prefix are matched literally.
    assertThat(new RedisKeys("a*b?[c]\\d").fencePattern())
        .isEqualTo("a\\*b\\?\\[c\\]\\\\d:{*}:fence");
  }
}
