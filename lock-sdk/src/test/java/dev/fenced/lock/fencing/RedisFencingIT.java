package dev.fenced.lock.fencing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.contract.TestServers;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link RedisFencing#GUARDED_HSET} on the real server. */
class RedisFencingIT {

  private static Vertx vertx;
  private static Redis redis;

  @BeforeAll
  static void connect() {
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, TestServers.redisUrl());
  }

  @AfterAll
  static void disconnect() throws Exception {
    redis.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Response send(Request request) throws Exception {
    return redis.send(request).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  /** Runs the guard for holder "h-{token}"; true when the write went through. */
  private static boolean guardedSet(String key, long token, String value) throws Exception {
    return guardedSet(key, new Fence(token, "h-" + token), value);
  }

  private static boolean guardedSet(String key, Fence fence, String value) throws Exception {
    Request eval = Request.cmd(Command.EVAL).arg(RedisFencing.GUARDED_HSET).arg(1).arg(key);
    RedisFencing.guardedHsetArgs(fence, Map.of("value", value)).forEach(eval::arg);
    return send(eval).toLong() == 1L;
  }

  private static String field(String key, String field) throws Exception {
    Response value = send(Request.cmd(Command.HGET).arg(key).arg(field));
    return value == null ? null : value.toString();
  }

  private static String newKey() {
    return "fencing-it:" + UUID.randomUUID();
  }

  @Test
  void theFirstWriteAndEveryNewerTokenWrite() throws Exception {
    String key = newKey();
    assertThat(guardedSet(key, 5, "a")).isTrue();
    assertThat(guardedSet(key, 7, "b")).isTrue();
    assertThat(field(key, "value")).isEqualTo("b");
    assertThat(field(key, RedisFencing.FENCE_FIELD)).isEqualTo("7");
  }

  @Test
  void anOlderTokenIsRefusedAndChangesNothing() throws Exception {
    String key = newKey();
    assertThat(guardedSet(key, 7, "new")).isTrue();
    assertThat(guardedSet(key, 6, "stale")).isFalse();
    assertThat(field(key, "value")).isEqualTo("new");
    assertThat(field(key, RedisFencing.FENCE_FIELD)).isEqualTo("7");
  }

  @Test
  void theSameHoldMayWriteAgain() throws Exception {
    String key = newKey();
    assertThat(guardedSet(key, new Fence(7, "hold-a"), "first")).isTrue();
    assertThat(guardedSet(key, new Fence(7, "hold-a"), "second")).isTrue();
    assertThat(field(key, "value")).isEqualTo("second");
    assertThat(field(key, RedisFencing.HOLDER_FIELD)).isEqualTo("hold-a");
  }

  @Test
  void anEqualTokenFromAnotherHolderIsRefused() throws Exception {
    // A token handed out twice (a failover lost the last INCR): the second holder must not write.
    String key = newKey();
    assertThat(guardedSet(key, new Fence(7, "hold-a"), "first")).isTrue();
    assertThat(guardedSet(key, new Fence(7, "hold-b"), "second")).isFalse();
    assertThat(field(key, "value")).isEqualTo("first");
    assertThat(guardedSet(key, new Fence(8, "hold-b"), "newer")).isTrue();
    assertThat(field(key, RedisFencing.HOLDER_FIELD)).isEqualTo("hold-b");
  }

  @Test
  void aHashWrittenWithoutAHolderKeepsWorkingAndLearnsItsHolder() throws Exception {
    // Data fenced before holders were recorded: the token check is as before, and the first write
    // records who wrote.
    String key = newKey();
    send(
        Request.cmd(Command.HSET)
            .arg(key)
            .arg(RedisFencing.FENCE_FIELD)
            .arg("7")
            .arg("value")
            .arg("old"));
    assertThat(guardedSet(key, new Fence(6, "hold-a"), "older")).isFalse();
    assertThat(guardedSet(key, new Fence(7, "hold-a"), "equal")).isTrue();
    assertThat(guardedSet(key, new Fence(7, "hold-b"), "twin")).isFalse();
    assertThat(field(key, "value")).isEqualTo("equal");
  }

  @Test
  void tokensOfDifferentLengthCompareAsNumbersNotAsText() throws Exception {
    String key = newKey();
    assertThat(guardedSet(key, 1000, "thousand")).isTrue();
    assertThat(guardedSet(key, 999, "stale")).isFalse(); // "999" > "1000" as text
    assertThat(field(key, "value")).isEqualTo("thousand");
  }

  @Test
  void tokensAbove2To53CompareExactly() throws Exception {
    // As Lua doubles 2^53 + 1 and 2^53 are the same number; only an exact comparison tells them
    // apart. Real tokens live up there: epoch 1024 starts at 2^53.
    long newer = (1L << 53) + 1;
    long older = 1L << 53;
    assertThat((double) newer).isEqualTo((double) older);
    String key = newKey();
    assertThat(guardedSet(key, newer, "newer")).isTrue();
    assertThat(guardedSet(key, older, "older")).isFalse();
    assertThat(field(key, "value")).isEqualTo("newer");

    assertThat(guardedSet(key, Long.MAX_VALUE - 1, "near-max")).isTrue();
    assertThat(guardedSet(key, Long.MAX_VALUE - 2, "stale")).isFalse();
    assertThat(guardedSet(key, Long.MAX_VALUE, "max")).isTrue();
    assertThat(field(key, "value")).isEqualTo("max");
    assertThat(field(key, RedisFencing.FENCE_FIELD)).isEqualTo(Long.toString(Long.MAX_VALUE));
  }

  @Test
  void theFenceFieldsCannotBeWrittenDirectlyNorATokenBeNegative() {
    Fence fence = new Fence(1, "hold");
    assertThatThrownBy(() -> RedisFencing.guardedHsetArgs(fence, Map.of("_fence", "9")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("_fence");
    assertThatThrownBy(() -> RedisFencing.guardedHsetArgs(fence, Map.of("_holder", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("_holder");
    assertThatThrownBy(() -> new Fence(-1, "hold"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("token");
    assertThatThrownBy(() -> new Fence(1, " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holder");
  }
}
