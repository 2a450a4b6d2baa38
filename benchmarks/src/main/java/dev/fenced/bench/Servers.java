package dev.fenced.bench;

/**
 * Where the servers of {@code scripts/backends.sh} listen: the variables {@code scripts/backends.sh
 * env} prints, with the same defaults the contract tests use.
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

  static String jdbcUrl() {
    return "jdbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + pgDatabase();
  }

  static String etcdEndpoints() {
    return env("FENCED_ETCD_ENDPOINTS", "http://127.0.0.1:12379");
  }

  static String zkConnect() {
    return env("FENCED_ZK_CONNECT", "127.0.0.1:12181");
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
