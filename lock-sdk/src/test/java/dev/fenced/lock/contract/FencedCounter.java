package dev.fenced.lock.contract;

import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.fencing.FencedUpdate;
import dev.fenced.lock.fencing.RedisFencing;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A counter kept twice in real fenced storage, a PostgreSQL row written with {@link FencedUpdate}
 * and a Redis hash written with {@link RedisFencing}, plus an unfenced PostgreSQL row for the
 * contrast. Storage is reached directly, never through the lock backend's connections.
 *
 * <p>A holder increments by read-then-write: it first {@linkplain #claim claims} the counter with
 * its fence (a fenced write of its identity), then reads, then writes the value it read plus one.
 * Claiming first is what makes fencing protect a read-then-write: once a newer holder has claimed,
 * every write of an older one is refused, so an accepted write never rests on a value read before
 * another holder's accepted write. The accepted increments then add up to the value exactly.
 */
public final class FencedCounter implements AutoCloseable {

  private static final String TABLE = "fenced_counter_it";
  private static final FencedUpdate CLAIM =
      FencedUpdate.table(TABLE).set("claimed_by").where("name").fence("fence", "fence_holder");
  private static final FencedUpdate WRITE =
      FencedUpdate.table(TABLE).set("n").where("name").fence("fence", "fence_holder");

  private final String name;
  private final String redisKey;
  private final Redis redis;
  private Connection connection;

  private FencedCounter(Vertx vertx, String name) {
    this.name = name;
    this.redisKey = "fenced-counter-it:" + name;
    this.redis = Redis.createClient(vertx, TestServers.redisUrl());
  }

  /** The counter of {@code name} that {@link #reset} made, as another process sees it. */
  public static FencedCounter existing(Vertx vertx, String name) {
    return new FencedCounter(vertx, name);
  }

  /** Creates (or resets to zero, unfenced) the rows and the hash of {@code name}. */
  public static FencedCounter reset(Vertx vertx, String name) throws Exception {
    FencedCounter counter = new FencedCounter(vertx, name);
    counter.resetStorage();
    return counter;
  }

  private void resetStorage() throws Exception {
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (name text PRIMARY KEY, n bigint NOT NULL DEFAULT 0, claimed_by text,"
              + " fence bigint NOT NULL DEFAULT 0, fence_holder text)");
    }
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + TABLE
                    + " (name) VALUES (?), (?) ON CONFLICT (name) DO UPDATE SET n = 0,"
                    + " claimed_by = NULL, fence = 0, fence_holder = NULL")) {
      s.setString(1, name);
      s.setString(2, plainKey());
      s.executeUpdate();
    }
    send(Request.cmd(Command.DEL).arg(redisKey));
    send(Request.cmd(Command.HSET).arg(redisKey).arg("n").arg("0"));
  }

  /** Which stores accepted a fenced write. */
  public record Accepted(boolean postgres, boolean redis) {

    public boolean both() {
      return postgres && redis;
    }

    public boolean neither() {
      return !postgres && !redis;
    }
  }

  /** Registers {@code fence} as the newest writer; refused where a newer one has. */
  public Accepted claim(Fence fence) throws Exception {
    return new Accepted(
        pgUpdate(CLAIM, fence.holder(), fence), redisSet("claimed_by", fence.holder(), fence));
  }

  /** Writes {@code value} if {@code fence} is still the newest writer. */
  public Accepted write(long value, Fence fence) throws Exception {
    return new Accepted(pgUpdate(WRITE, value, fence), redisSet("n", Long.toString(value), fence));
  }

  /** The PostgreSQL value (the one read for an increment). */
  public long value() throws SQLException {
    return pgRead(name);
  }

  public long redisValue() throws Exception {
    return Long.parseLong(send(Request.cmd(Command.HGET).arg(redisKey).arg("n")).toString());
  }

  /** The unfenced row: plain read and plain write, as code that ignores the lock's loss does. */
  public long plainValue() throws SQLException {
    return pgRead(plainKey());
  }

  public synchronized void plainWrite(long value) throws SQLException {
    Connection c = connection();
    try (PreparedStatement s =
        c.prepareStatement("UPDATE " + TABLE + " SET n = ? WHERE name = ?")) {
      s.setLong(1, value);
      s.setString(2, plainKey());
      s.executeUpdate();
    }
  }

  @Override
  public synchronized void close() {
    redis.close();
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // closing anyway
      }
    }
  }

  /** One autocommit connection, opened on first use: each statement commits on its own. */
  private synchronized Connection connection() throws SQLException {
    if (connection == null || connection.isClosed()) {
      connection = TestServers.jdbc();
    }
    return connection;
  }

  private String plainKey() {
    return name + "#plain";
  }

  private synchronized boolean pgUpdate(FencedUpdate update, Object value, Fence fence)
      throws SQLException {
    Connection c = connection();
    try (PreparedStatement s = c.prepareStatement(update.jdbcSql())) {
      List<Object> params = update.jdbcParams(List.of(value), List.of(name), fence);
      for (int i = 0; i < params.size(); i++) {
        s.setObject(i + 1, params.get(i));
      }
      return s.executeUpdate() == 1;
    }
  }

  private synchronized long pgRead(String key) throws SQLException {
    Connection c = connection();
    try (PreparedStatement s = c.prepareStatement("SELECT n FROM " + TABLE + " WHERE name = ?")) {
      s.setString(1, key);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private boolean redisSet(String field, String value, Fence fence) throws Exception {
    Request eval = Request.cmd(Command.EVAL).arg(RedisFencing.GUARDED_HSET).arg(1).arg(redisKey);
    RedisFencing.guardedHsetArgs(fence, Map.of(field, value)).forEach(eval::arg);
    return send(eval).toLong() == 1L;
  }

  private Response send(Request request) throws Exception {
    return redis.send(request).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
