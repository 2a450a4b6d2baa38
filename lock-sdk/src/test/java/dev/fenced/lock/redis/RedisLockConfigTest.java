package dev.fenced.lock.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisLockConfigTest {

  private static final RedisLockConfig VALID = RedisLockConfig.of("redis://localhost:6379");

  @Test
  void aBlankConnectionStringIsRefused() {
    assertThatThrownBy(() -> new RedisLockConfig(" ", null, "fenced"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionString must not be blank");
  }

  @Test
  void aConnectionStringWithoutTheRedisSchemeIsRefusedWithoutShowingThePassword() {
    assertThatThrownBy(() -> new RedisLockConfig("http://user:secret@host:6379", null, "fenced"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionString must start with redis://")
        .hasMessageNotContaining("secret");
  }

  @Test
  void aBlankKeyPrefixIsRefused() {
    assertThatThrownBy(() -> new RedisLockConfig("redis://h:1", null, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyPrefix must not be blank");
  }

  @Test
  void aKeyPrefixWithBracesIsRefusedBecauseItWouldMoveTheHashTag() {
    assertThatThrownBy(() -> new RedisLockConfig("redis://h:1", null, "a{b}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyPrefix must not contain braces");
  }

  @Test
  void aNonPositiveRequestTimeoutIsRefused() {
    assertThatThrownBy(() -> VALID.withRequestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("requestTimeout must be positive");
  }

  @Test
  void anEmptyPoolIsRefused() {
    assertThatThrownBy(() -> VALID.withMaxPoolSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPoolSize must be at least 1");
  }

  @Test
  void aNonPositiveBackOffIsRefused() {
    assertThatThrownBy(() -> VALID.withMaxBackoff(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBackoff must be positive");
  }

  @Test
  void passwordsStayOutOfToString() {
    RedisLockConfig config = new RedisLockConfig("redis://:uri-secret@h:1", "pw-secret", "fenced");
    assertThat(config.toString())
        .doesNotContain("uri-secret")
        .doesNotContain("pw-secret")
        .contains("keyPrefix=fenced");
  }

  @Test
  void keysShareTheLockNameAsHashTag() {
    RedisKeys keys = new RedisKeys("fenced");
    assertThat(keys.lock("vote:p:cat")).isEqualTo("fenced:{vote:p:cat}:lock");
    assertThat(keys.fence("vote:p:cat")).isEqualTo("fenced:{vote:p:cat}:fence");
    assertThat(keys.releaseChannel()).isEqualTo("fenced:released");
  }
}
