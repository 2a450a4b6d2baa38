package dev.fenced.lock.redis;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where the Redis backend keeps its locks and how it talks to the server.
 *
 * @param connectionString a Redis URI such as {@code redis://redis:6379} or {@code
 *     redis://:secret@redis:6379/0}; null (and ignored) when the service is given an existing
 *     client
 * @param password the server password, or null when there is none (or the URI carries it); never
 *     logged
 * @param keyPrefix the first part of every key and of the release channel, so several lock families
 *     can share one server: {@code <prefix>:{<name>}:lock}, {@code <prefix>:{<name>}:fence},
 *     channel {@code <prefix>:released}
 * @param requestTimeout how long one round trip may take before the request fails as backend
 *     unavailable (a frozen server or a dropped network never answers)
 * @param maxPoolSize connections in the client's pool; every in-flight request holds one
 * @param maxBackoff the longest pause between two acquire attempts of a waiter; releases wake
 *     waiters through pub/sub earlier, so this only bounds how long a missed notification can delay
 *     one
 * @param sentinel the Sentinels to ask for the primary instead of {@code connectionString}, or null
 */
public record RedisLockConfig(
    String connectionString,
    String password,
    String keyPrefix,
    Duration requestTimeout,
    int maxPoolSize,
    Duration maxBackoff,
    Sentinel sentinel) {

  /**
   * A Redis master set reached through its Sentinels: the client asks them which server is the
   * primary, and follows a failover they announce.
   *
   * @param masterName the master set's name, as the Sentinels monitor it
   * @param nodes the Sentinels, each {@code host:port}
   */
  public record Sentinel(String masterName, List<String> nodes) {

    public Sentinel {
      if (masterName == null || masterName.isBlank()) {
        throw new IllegalArgumentException("sentinel masterName must not be blank");
      }
      if (nodes == null || nodes.isEmpty()) {
        throw new IllegalArgumentException("sentinel nodes must list at least one host:port");
      }
      nodes = List.copyOf(nodes);
    }

    /** The Sentinels as the client's endpoints. */
    List<String> endpoints() {
      return nodes.stream().map(n -> "redis://" + n).toList();
    }
  }

  public static final String DEFAULT_KEY_PREFIX = "fenced";
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(3);
  public static final int DEFAULT_MAX_POOL_SIZE = 8;
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(1);

  public RedisLockConfig {
    if (sentinel != null && connectionString != null) {
      throw new IllegalArgumentException("set either connectionString or sentinel, not both");
    }
    if (connectionString != null && connectionString.isBlank()) {
      throw new IllegalArgumentException("connectionString must not be blank");
    }
    if (connectionString != null
        && !connectionString.startsWith("redis://")
        && !connectionString.startsWith("rediss://")) {
      throw new IllegalArgumentException(
          "connectionString must start with redis:// or rediss://, was '"
              + RedisLockConfig.redact(connectionString)
              + "'");
    }
    checkPrefix(keyPrefix);
    requirePositive("requestTimeout", requestTimeout);
    if (maxPoolSize < 1) {
      throw new IllegalArgumentException("maxPoolSize must be at least 1, was " + maxPoolSize);
    }
    requirePositive("maxBackoff", maxBackoff);
  }

  /** One server, no Sentinel. */
  public RedisLockConfig(
      String connectionString,
      String password,
      String keyPrefix,
      Duration requestTimeout,
      int maxPoolSize,
      Duration maxBackoff) {
    this(connectionString, password, keyPrefix, requestTimeout, maxPoolSize, maxBackoff, null);
  }

  /** The defaults for timeouts, pool and back-off. */
  public RedisLockConfig(String connectionString, String password, String keyPrefix) {
    this(
        connectionString,
        password,
        keyPrefix,
        DEFAULT_REQUEST_TIMEOUT,
        DEFAULT_MAX_POOL_SIZE,
        DEFAULT_MAX_BACKOFF);
  }

  /**
   * The primary of {@code sentinel}'s master set, with the defaults for timeouts, pool, back-off.
   */
  public static RedisLockConfig sentinel(Sentinel sentinel, String password, String keyPrefix) {
    return new RedisLockConfig(
        null,
        password,
        keyPrefix,
        DEFAULT_REQUEST_TIMEOUT,
        DEFAULT_MAX_POOL_SIZE,
        DEFAULT_MAX_BACKOFF,
        java.util.Objects.requireNonNull(sentinel, "sentinel"));
  }

  /** For a service on an existing client: no connection string, the default timeouts. */
  public static RedisLockConfig forClient(String keyPrefix) {
    return new RedisLockConfig(null, null, keyPrefix);
  }

  /** No password, the default key prefix. */
  public static RedisLockConfig of(String connectionString) {
    return new RedisLockConfig(connectionString, null, DEFAULT_KEY_PREFIX);
  }

  public RedisLockConfig withRequestTimeout(Duration value) {
    return new RedisLockConfig(
        connectionString, password, keyPrefix, value, maxPoolSize, maxBackoff, sentinel);
  }

  public RedisLockConfig withMaxPoolSize(int value) {
    return new RedisLockConfig(
        connectionString, password, keyPrefix, requestTimeout, value, maxBackoff, sentinel);
  }

  public RedisLockConfig withMaxBackoff(Duration value) {
    return new RedisLockConfig(
        connectionString, password, keyPrefix, requestTimeout, maxPoolSize, value, sentinel);
  }

  /** Keeps the password out of logs. */
  @Override
  public String toString() {
    return "RedisLockConfig[connectionString="
        + (connectionString == null ? "none" : redact(connectionString))
        + ", password="
        + (password == null ? "none" : "***")
        + ", keyPrefix="
        + keyPrefix
        + ", requestTimeout="
        + requestTimeout
        + ", maxPoolSize="
        + maxPoolSize
        + ", maxBackoff="
        + maxBackoff
        + (sentinel == null
            ? ""
            : ", sentinel=" + sentinel.masterName() + "@" + String.join(",", sentinel.nodes()))
        + "]";
  }

  /** The URI without the user-info part, which may hold a password. */
  static String redact(String uri) {
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (scheme < 0 || at < scheme) {
      return uri;
    }
    return uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1);
  }

  static void checkPrefix(String keyPrefix) {
    if (keyPrefix == null || keyPrefix.isBlank()) {
      throw new IllegalArgumentException("keyPrefix must not be blank");
    }
    for (int i = 0; i < keyPrefix.length(); i++) {
      char c = keyPrefix.charAt(i);
      // Braces would move the cluster hash tag away from the lock name.
      if (c == '{' || c == '}' || Character.isWhitespace(c) || Character.isISOControl(c)) {
        throw new IllegalArgumentException(
            "keyPrefix must not contain braces, whitespace or control characters, was '"
                + keyPrefix
                + "'");
      }
    }
  }

  private static void requirePositive(String field, Duration value) {
    Objects.requireNonNull(value, field + " must be set");
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be positive, was " + value);
    }
  }
}
