package dev.fenced.operator;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

/**
 * The real servers of {@code scripts/backends.sh} (addresses from {@code scripts/backends.sh env}),
 * and direct looks into them, so tests check what the operator created on the server itself.
 */
final class Servers {

  private Servers() {}

  static String redisUrl() {
    return env("FENCED_REDIS_URL", "redis://127.0.0.1:16379");
  }

  static String pgHost() {
    return env("FENCED_PG_HOST", "127.0.0.1");
  }

  static int pgPort() {
    return Integer.parseInt(env("FENCED_PG_PORT", "15432"));
  }

  static String pgDatabase() {
    return env("FENCED_PG_DATABASE", "fenced");
  }

  static String pgUser() {
    return env("FENCED_PG_USER", "fenced");
  }

  static String pgPassword() {
    return env("FENCED_PG_PASSWORD", "fenced");
  }

  static String etcdEndpoint() {
    return env("FENCED_ETCD_ENDPOINTS", "http://127.0.0.1:12379").split(",")[0];
  }

  static String zkConnect() {
    return env("FENCED_ZK_CONNECT", "127.0.0.1:12181");
  }

  static boolean pgTableExists(String table) throws SQLException {
    return pgTableExists(pgDatabase(), table);
  }

  static boolean pgTableExists(String database, String table) throws SQLException {
    try (Connection c = jdbc(database);
        ResultSet rs =
            c.createStatement().executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  static void pgDrop(String table) throws SQLException {
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + pgDatabase(),
            pgUser(),
            pgPassword())) {
      c.createStatement().execute("DROP TABLE IF EXISTS " + table);
    }
  }

  /** GET on the real Redis; null when the key is absent. */
  static String redisGet(String key) throws Exception {
    return redis(redisUrl(), Request.cmd(Command.GET).arg(key));
  }

  /** One command on a Redis; the reply as text, null for none. */
  static String redis(String url, Request request) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Redis redis = Redis.createClient(vertx, url);
      Response r =
          redis.send(request).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      redis.close();
      return r == null ? null : r.toString();
    } finally {
      vertx.close();
    }
  }

  /** The Postgres ledger document of {@code database}, or null. */
  static String pgLedger(String database) throws SQLException {
    try (Connection c = jdbc(database);
        ResultSet rs =
            c.createStatement().executeQuery("SELECT document FROM fenced_ledger WHERE id = 1")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  static Connection jdbc() throws SQLException {
    return jdbc(pgDatabase());
  }

  static Connection jdbc(String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + database, pgUser(), pgPassword());
  }

  static void pgCreateDatabase(String database) throws SQLException {
    try (Connection c = jdbc()) {
      c.createStatement().execute("CREATE DATABASE " + database);
    }
  }

  static void pgDropDatabase(String database) throws SQLException {
    try (Connection c = jdbc()) {
      c.createStatement().execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  /** A ZooKeeper node's data as text, or null when it does not exist. */
  static String zkData(String path) throws Exception {
    try (CuratorFramework zk =
        CuratorFrameworkFactory.newClient(zkConnect(), 5000, 5000, new RetryOneTime(200))) {
      zk.start();
      zk.blockUntilConnected(5, TimeUnit.SECONDS);
      return zk.checkExists().forPath(path) == null
          ? null
          : new String(zk.getData().forPath(path), StandardCharsets.UTF_8);
    }
  }

  /** How many etcd keys start with {@code prefix}. */
  static long etcdCount(String prefix) throws Exception {
    try (Client client = Client.builder().endpoints(etcdEndpoint()).build()) {
      return client
          .getKVClient()
          .get(
              ByteSequence.from(prefix, StandardCharsets.UTF_8),
              GetOption.builder().isPrefix(true).withCountOnly(true).build())
          .get(5, TimeUnit.SECONDS)
          .getCount();
    }
  }

  static String etcdGet(String key) throws Exception {
    try (Client client = Client.builder().endpoints(etcdEndpoint()).build()) {
      var kvs =
          client
              .getKVClient()
              .get(ByteSequence.from(key, StandardCharsets.UTF_8))
              .get(5, TimeUnit.SECONDS)
              .getKvs();
      return kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
    }
  }

  static boolean zkExists(String path) throws Exception {
    try (CuratorFramework zk =
        CuratorFrameworkFactory.newClient(zkConnect(), 5000, 5000, new RetryOneTime(200))) {
      zk.start();
      zk.blockUntilConnected(5, TimeUnit.SECONDS);
      return zk.checkExists().forPath(path) != null;
    }
  }

  /** Runs {@code scripts/backends.sh <command> <backend>} and fails the test if it fails. */
  static void backends(String command, String backend) throws Exception {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/backends.sh"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("scripts/backends.sh not found above the working directory");
    }
    Process process =
        new ProcessBuilder("bash", dir.resolve("scripts/backends.sh").toString(), command, backend)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("scripts/backends.sh " + command + " " + backend + " failed");
    }
  }

  static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/backends.sh"))) {
      dir = dir.getParent();
    }
    return dir;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
