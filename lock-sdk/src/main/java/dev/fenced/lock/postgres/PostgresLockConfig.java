package dev.fenced.lock.postgres;

import io.vertx.pgclient.PgConnectOptions;

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
 */
public record PostgresLockConfig(
    String host,
    int port,
    String database,
    String user,
    String password,
    PostgresMode mode,
    int maxPoolSize) {

  /** Pool size when none is given. */
  public static final int DEFAULT_POOL_SIZE = 16;

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
  }

  public PostgresLockConfig(
      String host, int port, String database, String user, String password, PostgresMode mode) {
    this(host, port, database, user, password, mode, DEFAULT_POOL_SIZE);
  }

  public PostgresLockConfig withMode(PostgresMode value) {
    return new PostgresLockConfig(host, port, database, user, password, value, maxPoolSize);
  }

  public PostgresLockConfig withMaxPoolSize(int value) {
    return new PostgresLockConfig(host, port, database, user, password, mode, value);
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
        + "]";
  }

  private static void requireText(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank");
    }
  }
}
