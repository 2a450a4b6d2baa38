package dev.fenced.lock.postgres;

import io.vertx.pgclient.PgConnectOptions;
import java.time.Duration;

/**
 * Where a PostgreSQL lock service connects and which mode it uses.
 *
 * @param host the server's host name or address
 * @param port the server's port, 1..65535
 * @param database the database that holds the lock tables and the fence sequence
 * @param user the role to connect as; needs CREATE on the database's default schema to provision
 * @param password the role's password; never logged or printed
 * @param mode how locks are held
 * @param maxPoolSize connections this service may open. RowLock and Advisory pin one connection per
 *     hold and per waiting acquire, so this also bounds how many of them one service can have at
 *     once
 * @param requestTimeout how long one statement may go unanswered (beyond the lock wait it is asked
 *     to make) before it fails as backend unavailable: a frozen server or a network that drops
 *     packets never answers. The connection of a statement that timed out is closed, not returned
 *     to the pool, since its answer may still come. Waiting for a connection of the pool (a new
 *     one, or one that {@code maxPoolSize} holds and waiters have all taken) is bounded by it too
 */
public record PostgresLockConfig(
    String host,
    int port,
    String database,
    String user,
    String password,
    PostgresMode mode,
    int maxPoolSize,
    Duration requestTimeout) {

  /** Pool size when none is given. */
  public static final int DEFAULT_POOL_SIZE = 16;

  /** Request timeout when none is given. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

  public PostgresLockConfig {
    requireText("host", host);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be within 1..65535, was " + port);
    }
    requireText("database", database);
    requireText("user", user);
    if (password == null) {
      throw new IllegalArgumentException("password must be set (it may be empty)");
    }
    if (mode == null) {
      throw new IllegalArgumentException("mode must be one of LockTable, RowLock, Advisory");
    }
    if (maxPoolSize < 1) {
      throw new IllegalArgumentException("maxPoolSize must be at least 1, was " + maxPoolSize);
    }
    if (requestTimeout == null || requestTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "requestTimeout must be at least 1ms, was " + requestTimeout);
    }
  }

  public PostgresLockConfig(
      String host,
      int port,
      String database,
      String user,
      String password,
      PostgresMode mode,
      int maxPoolSize) {
    this(host, port, database, user, password, mode, maxPoolSize, DEFAULT_REQUEST_TIMEOUT);
  }

  public PostgresLockConfig(
      String host, int port, String database, String user, String password, PostgresMode mode) {
    this(host, port, database, user, password, mode, DEFAULT_POOL_SIZE);
  }

  public PostgresLockConfig withMode(PostgresMode value) {
    return new PostgresLockConfig(
        host, port, database, user, password, value, maxPoolSize, requestTimeout);
  }

  public PostgresLockConfig withMaxPoolSize(int value) {
    return new PostgresLockConfig(
        host, port, database, user, password, mode, value, requestTimeout);
  }

  public PostgresLockConfig withRequestTimeout(Duration value) {
    return new PostgresLockConfig(host, port, database, user, password, mode, maxPoolSize, value);
  }

  /** Another server (a proxy in front of it, say), all else the same. */
  public PostgresLockConfig withServer(String otherHost, int otherPort) {
    return new PostgresLockConfig(
        otherHost, otherPort, database, user, password, mode, maxPoolSize, requestTimeout);
  }

  /** The Vert.x connect options for this server. */
  PgConnectOptions connectOptions() {
    return new PgConnectOptions()
        .setHost(host)
        .setPort(port)
        .setDatabase(database)
        .setUser(user)
        .setPassword(password)
        .setConnectTimeout(5_000)
        .setReconnectAttempts(0)
        .setCachePreparedStatements(true)
        .addProperty("application_name", "fenced-" + mode.name());
  }

  /** Without the password. */
  @Override
  public String toString() {
    return "PostgresLockConfig[postgresql://"
        + user
        + "@"
        + host
        + ":"
        + port
        + "/"
        + database
        + ", mode="
        + mode
        + ", maxPoolSize="
        + maxPoolSize
        + ", requestTimeout="
        + requestTimeout
        + "]";
  }

  private static void requireText(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank");
    }
  }
}
