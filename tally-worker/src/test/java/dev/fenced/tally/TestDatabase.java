package dev.fenced.tally;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.flywaydb.core.Flyway;

/**
 * A fresh schema on the real PostgreSQL of scripts/backends.sh, migrated with the vote-schema
 * migrations, so test classes never see each other's polls or workers.
 */
final class TestDatabase implements AutoCloseable {

  static final String HOST = env("FENCED_PG_HOST", "127.0.0.1");
  static final int PORT = Integer.parseInt(env("FENCED_PG_PORT", "15432"));
  static final String DATABASE = env("FENCED_PG_DATABASE", "fenced");
  static final String USER = env("FENCED_PG_USER", "fenced");
  static final String PASSWORD = env("FENCED_PG_PASSWORD", "fenced");
  static final String JDBC_URL = "jdbc:postgresql://" + HOST + ":" + PORT + "/" + DATABASE;

  final String schema = "tally_it_" + UUID.randomUUID().toString().substring(0, 8);
  private final List<String> extraSchemas = new ArrayList<>();

  TestDatabase() {
    try (Connection c = DriverManager.getConnection(JDBC_URL, USER, PASSWORD);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL at " + JDBC_URL + " (scripts/backends.sh up)", e);
    }
    Flyway.configure()
        .dataSource(JDBC_URL, USER, PASSWORD)
        .schemas(schema)
        .defaultSchema(schema)
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  Pool pool(Vertx vertx, int size) {
    return pool(vertx, size, schema);
  }

  /**
   * A pool whose {@code tally_workers} is a table of its own (a schema searched first), while every
   * other table is this database's: a worker on it sees no other worker.
   */
  Pool poolWithOwnMembership(Vertx vertx, int size, String name) {
    String own = schema + "_m_" + name;
    try (Connection c = DriverManager.getConnection(JDBC_URL, USER, PASSWORD);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + own);
      s.execute(
          "CREATE TABLE "
              + own
              + ".tally_workers (LIKE "
              + schema
              + ".tally_workers"
              + " INCLUDING ALL)");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    extraSchemas.add(own);
    return pool(vertx, size, own + ", " + schema);
  }

  private Pool pool(Vertx vertx, int size, String searchPath) {
    PgConnectOptions options =
        new PgConnectOptions()
            .setHost(HOST)
            .setPort(PORT)
            .setDatabase(DATABASE)
            .setUser(USER)
            .setPassword(PASSWORD)
            .setProperties(
                new HashMap<>(Map.of("search_path", searchPath, "application_name", schema)));
    return Pool.pool(vertx, options, new PoolOptions().setMaxSize(size));
  }

  Connection connect() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", USER);
    props.setProperty("password", PASSWORD);
    props.setProperty("currentSchema", schema);
    props.setProperty("ApplicationName", schema);
    return DriverManager.getConnection(JDBC_URL, props);
  }

  void createPoll(String id, String... options) throws SQLException {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("INSERT INTO polls (id, title, options) VALUES (?, ?, ?)")) {
      s.setString(1, id);
      s.setString(2, "poll " + id);
      s.setArray(3, c.createArrayOf("text", options));
      s.executeUpdate();
    }
  }

  /** One ballot in its own transaction. */
  void vote(String poll, String voter, String option) throws SQLException {
    try (Connection c = connect()) {
      vote(c, poll, voter, option);
    }
  }

  static void vote(Connection c, String poll, String voter, String option) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("INSERT INTO ballots (poll_id, voter, option) VALUES (?, ?, ?)")) {
      s.setString(1, poll);
      s.setString(2, voter);
      s.setString(3, option);
      s.executeUpdate();
    }
  }

  long scalar(String sql, Object... params) throws SQLException {
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /** A single number from {@code sql} on a connection of the caller's. */
  static long scalarOn(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  void execute(String sql, Object... params) throws SQLException {
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      s.execute();
    }
  }

  long ballots(String poll) throws SQLException {
    return scalar("SELECT count(*) FROM ballots WHERE poll_id = ?", poll);
  }

  long tallied(String poll) throws SQLException {
    return scalar("SELECT coalesce(max(tallied), 0) FROM tally_watermarks WHERE poll_id = ?", poll);
  }

  long tallySum(String poll) throws SQLException {
    return scalar("SELECT coalesce(sum(count), 0) FROM tallies WHERE poll_id = ?", poll);
  }

  /** Per option: ballots minus tally; empty when every option's tally is exact. */
  Map<String, Long> mismatches(String poll) throws SQLException {
    Map<String, Long> out = new HashMap<>();
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT coalesce(b.option, t.option), coalesce(b.n, 0) - coalesce(t.count, 0)"
                    + " FROM (SELECT option, count(*) AS n FROM ballots WHERE poll_id = ?"
                    + " GROUP BY option) b"
                    + " FULL JOIN (SELECT option, count FROM tallies WHERE poll_id = ?) t"
                    + " ON b.option = t.option")) {
      s.setString(1, poll);
      s.setString(2, poll);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          if (r.getLong(2) != 0) {
            out.put(r.getString(1), r.getLong(2));
          }
        }
      }
    }
    return out;
  }

  List<String> polls() throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT id FROM polls ORDER BY id")) {
      java.util.ArrayList<String> out = new java.util.ArrayList<>();
      while (r.next()) {
        out.add(r.getString(1));
      }
      return out;
    }
  }

  @Override
  public void close() throws SQLException {
    try (Connection c = DriverManager.getConnection(JDBC_URL, USER, PASSWORD);
        Statement s = c.createStatement()) {
      for (String extra : extraSchemas) {
        s.execute("DROP SCHEMA IF EXISTS " + extra + " CASCADE");
      }
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }
}
