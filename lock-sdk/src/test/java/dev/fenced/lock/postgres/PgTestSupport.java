package dev.fenced.lock.postgres;

import dev.fenced.lock.contract.TestServers;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The test PostgreSQL as the lock services see it, and a few JDBC checks. */
final class PgTestSupport {

  /** One Vert.x for every test, as an application would share its own. */
  static final Vertx VERTX = Vertx.vertx();

  private PgTestSupport() {}

  static PostgresLockConfig config(PostgresMode mode) {
    return new PostgresLockConfig(
        TestServers.pgHost(),
        TestServers.pgPort(),
        TestServers.pgDatabase(),
        TestServers.pgUser(),
        TestServers.pgPassword(),
        mode,
        16);
  }

  static void stopBackend() {
    TestServers.backends("down", "postgres");
  }

  static void startBackend() {
    TestServers.backends("up", "postgres");
  }

  /** Ends another session, as an administrator would ({@code pg_terminate_backend}). */
  static boolean terminate(int pid) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, pid);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}
