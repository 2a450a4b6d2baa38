package dev.fenced.lock.fencing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.contract.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link FencedUpdate} on the real PostgreSQL, with and without the holder column. */
class FencedUpdateIT {

  private static final FencedUpdate WITH_HOLDER =
      FencedUpdate.table("fenced_update_it").set("v").where("k").fence("fence", "fence_holder");
  private static final FencedUpdate TOKEN_ONLY =
      FencedUpdate.table("fenced_update_it").set("v").where("k").fence("fence");

  @BeforeAll
  static void table() throws SQLException {
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS fenced_update_it (k text PRIMARY KEY, v text,"
              + " fence bigint NOT NULL DEFAULT 0, fence_holder text)");
      s.execute(
          "ALTER TABLE fenced_update_it ADD COLUMN IF NOT EXISTS h bigint NOT NULL DEFAULT 0");
    }
  }

  private static String newRow() throws SQLException {
    String key = UUID.randomUUID().toString();
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("INSERT INTO fenced_update_it (k, v) VALUES (?, 'initial')")) {
      s.setString(1, key);
      s.executeUpdate();
    }
    return key;
  }

  private static boolean write(FencedUpdate update, String key, Fence fence, String value)
      throws SQLException {
    return write(update, key, fence, List.of(value));
  }

  private static boolean write(FencedUpdate update, String key, Fence fence, List<?> values)
      throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement(update.jdbcSql())) {
      List<Object> params = update.jdbcParams(values, List.of(key), fence);
      for (int i = 0; i < params.size(); i++) {
        s.setObject(i + 1, params.get(i));
      }
      return s.executeUpdate() == 1;
    }
  }

  private static String value(String key) throws SQLException {
    return column(key, "v");
  }

  private static String column(String key, String column) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("SELECT " + column + " FROM fenced_update_it WHERE k = ?")) {
      s.setString(1, key);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  @Test
  void newerTokensWriteOlderAreRefused() throws SQLException {
    String key = newRow();
    assertThat(write(WITH_HOLDER, key, new Fence(5, "a"), "five")).isTrue();
    assertThat(write(WITH_HOLDER, key, new Fence(9, "b"), "nine")).isTrue();
    assertThat(write(WITH_HOLDER, key, new Fence(7, "c"), "stale")).isFalse();
    assertThat(value(key)).isEqualTo("nine");
  }

  @Test
  void anEqualTokenWritesOnlyForTheSameHolder() throws SQLException {
    String key = newRow();
    assertThat(write(WITH_HOLDER, key, new Fence(7, "hold-a"), "a1")).isTrue();
    assertThat(write(WITH_HOLDER, key, new Fence(7, "hold-a"), "a2")).isTrue();
    // The token handed out a second time, to another hold: refused.
    assertThat(write(WITH_HOLDER, key, new Fence(7, "hold-b"), "b")).isFalse();
    assertThat(value(key)).isEqualTo("a2");
  }

  @Test
  void theTokenOnlyFormLetsAnEqualTokenFromAnyHolderThrough() throws SQLException {
    // What the holder column exists for: without it, a repeated token is two writers.
    String key = newRow();
    assertThat(write(TOKEN_ONLY, key, new Fence(7, "hold-a"), "a")).isTrue();
    assertThat(write(TOKEN_ONLY, key, new Fence(7, "hold-b"), "b")).isTrue();
    assertThat(value(key)).isEqualTo("b");
  }

  @Test
  void aRowWithoutAHolderKeepsWorkingAndLearnsItsHolderOnTheFirstWrite() throws SQLException {
    // Rows fenced before the holder column existed: their holder is NULL, the token check is as
    // before, and the first holder-aware write records who wrote.
    String key = newRow();
    assertThat(write(TOKEN_ONLY, key, new Fence(7, "old"), "legacy")).isTrue();
    assertThat(write(WITH_HOLDER, key, new Fence(6, "hold-a"), "older")).isFalse();
    assertThat(write(WITH_HOLDER, key, new Fence(7, "hold-a"), "equal")).isTrue();
    assertThat(write(WITH_HOLDER, key, new Fence(7, "hold-b"), "twin")).isFalse();
    assertThat(value(key)).isEqualTo("equal");
  }

  private static final FencedUpdate RAISE_WITH_HOLDER =
      FencedUpdate.table("fenced_update_it")
          .set("v")
          .raise("h")
          .where("k")
          .fence("fence", "fence_holder");

  private static boolean raise(String key, Fence fence, String value, long h) throws SQLException {
    return write(RAISE_WITH_HOLDER, key, fence, List.of(value, h));
  }

  private static long h(String key) throws SQLException {
    return Long.parseLong(column(key, "h"));
  }

  @Test
  void aRaisedColumnOnlyGoesUpAndStillObeysTheFence() throws SQLException {
    String key = newRow();
    assertThat(raise(key, new Fence(5, "a"), "first", 100)).isTrue();
    assertThat(h(key)).isEqualTo(100);
    // The same hold with a smaller value: the write goes through, the raised column stays.
    assertThat(raise(key, new Fence(5, "a"), "second", 40)).isTrue();
    assertThat(h(key)).isEqualTo(100);
    assertThat(value(key)).isEqualTo("second");
    // A newer hold raises it further.
    assertThat(raise(key, new Fence(6, "b"), "third", 150)).isTrue();
    assertThat(h(key)).isEqualTo(150);
    // An older token, or the current token from another hold, changes nothing at all.
    assertThat(raise(key, new Fence(5, "a"), "stale", 900)).isFalse();
    assertThat(raise(key, new Fence(6, "twin"), "twin", 900)).isFalse();
    assertThat(h(key)).isEqualTo(150);
    assertThat(value(key)).isEqualTo("third");
  }

  @Test
  void aRaisedColumnTakesItsPlaceholderInDeclarationOrder() {
    assertThat(RAISE_WITH_HOLDER.sql())
        .isEqualTo(
            "UPDATE fenced_update_it SET v = $1, h = greatest(h, $2), fence = $3,"
                + " fence_holder = $4 WHERE k = $5"
                + " AND (fence < $3 OR (fence = $3 AND (fence_holder = $4 OR fence_holder IS NULL)))");
    assertThat(RAISE_WITH_HOLDER.params(List.of("x", 7L), List.of("k1"), new Fence(3, "h")))
        .containsExactly("x", 7L, 3L, "h", "k1");
    assertThatThrownBy(() -> FencedUpdate.table("t").set("a").raise("a").where("k").fence("f"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a' is assigned twice");
  }

  @Test
  void numberedPlaceholdersPutTheHolderAfterTheToken() {
    assertThat(WITH_HOLDER.sql())
        .isEqualTo(
            "UPDATE fenced_update_it SET v = $1, fence = $2, fence_holder = $3 WHERE k = $4"
                + " AND (fence < $2 OR (fence = $2 AND (fence_holder = $3 OR fence_holder IS NULL)))");
    assertThat(WITH_HOLDER.params(List.of("x"), List.of("k1"), new Fence(3, "h")))
        .containsExactly("x", 3L, "h", "k1");
    assertThatThrownBy(() -> WITH_HOLDER.params(List.of("x"), List.of("k1"), 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fence_holder");
  }
}
