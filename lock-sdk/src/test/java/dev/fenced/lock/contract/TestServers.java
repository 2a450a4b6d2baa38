package dev.fenced.lock.contract;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * Where the real servers started by {@code scripts/backends.sh} listen, and how to stop and start
 * them from a test. Every value can be overridden with the variable {@code scripts/backends.sh env}
 * prints.
 */
public final class TestServers {

  private TestServers() {}

  public static String redisUrl() {
    return env("FENCED_REDIS_URL", "redis://127.0.0.1:16379");
  }

  public static String pgHost() {
    return env("FENCED_PG_HOST", "127.0.0.1");
  }

  public static int pgPort() {
    return Integer.parseInt(env("FENCED_PG_PORT", "15432"));
  }

  public static String pgDatabase() {
    return env("FENCED_PG_DATABASE", "fenced");
  }

  public static String pgUser() {
    return env("FENCED_PG_USER", "fenced");
  }

  public static String pgPassword() {
    return env("FENCED_PG_PASSWORD", "fenced");
  }

  public static String etcdEndpoints() {
    return env("FENCED_ETCD_ENDPOINTS", "http://127.0.0.1:12379");
  }

  public static String zkConnect() {
    return env("FENCED_ZK_CONNECT", "127.0.0.1:12181");
  }

  /** A new JDBC connection to the test database (autocommit). */
  public static Connection jdbc() throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + pgDatabase(),
        pgUser(),
        pgPassword());
  }

  /** Runs {@code scripts/backends.sh <command> <backend>} and fails the test if it fails. */
  public static void backends(String command, String backend) {
    Path script = repoRoot().resolve("scripts/backends.sh");
    try {
      Process process =
          new ProcessBuilder("bash", script.toString(), command, backend)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException(script + " " + command + " " + backend + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Where {@code scripts/backends.sh} keeps its servers' files: {@code FENCED_HOME}, or .fenced.
   */
  public static Path home() {
    String home = System.getenv("FENCED_HOME");
    return home == null || home.isBlank() ? repoRoot().resolve(".fenced") : Path.of(home);
  }

  private static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/backends.sh"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("scripts/backends.sh not found above the working directory");
    }
    return dir;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
