package dev.fenced.lock.contract;

import dev.fenced.lock.fencing.FencedUpdate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A counter row in the real PostgreSQL, incremented by read-then-write: the lost-update race a lock
 * exists to prevent. Each statement commits on its own, so nothing but the lock serialises the read
 * and the write.
 */
public final class PgCounter {

  private static final FencedUpdate FENCED_SET =
      FencedUpdate.table("contract_counters").set("n").where("name").fence("fence");

  private final String name;

  public PgCounter(String name) throws SQLException {
    this.name = name;
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS contract_counters ("
              + "name text PRIMARY KEY, n bigint NOT NULL, fence bigint NOT NULL DEFAULT 0)");
    }
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO contract_counters(name, n, fence) VALUES (?, 0, 0) "
                    + "ON CONFLICT (name) DO UPDATE SET n = 0, fence = 0")) {
      s.setString(1, name);
      s.executeUpdate();
    }
  }

  /** One unprotected read-then-write increment on {@code c}. */
  public void increment(Connection c) throws SQLException {
    add(c, 1);
  }

  /** One unprotected read-then-write that adds {@code delta} on {@code c}. */
  public void add(Connection c, long delta) throws SQLException {
    long n;
    try (PreparedStatement read =
        c.prepareStatement("SELECT n FROM contract_counters WHERE name = ?")) {
      read.setString(1, name);
      try (ResultSet rs = read.executeQuery()) {
        rs.next();
        n = rs.getLong(1);
      }
    }
    try (PreparedStatement write =
        c.prepareStatement("UPDATE contract_counters SET n = ? WHERE name = ?")) {
      write.setLong(1, n + delta);
      write.setString(2, name);
      write.executeUpdate();
    }
  }

  /** Writes {@code value} only if {@code token} is not older than the stored fence. */
  public boolean fencedSet(long value, long token) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement(FENCED_SET.jdbcSql())) {
      List<Object> params = FENCED_SET.jdbcParams(List.of(value), List.of(name), token);
      for (int i = 0; i < params.size(); i++) {
        s.setObject(i + 1, params.get(i));
      }
      return s.executeUpdate() == 1;
    }
  }

  public long value() throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("SELECT n FROM contract_counters WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
