package dev.fenced.operator;

import dev.fenced.lock.etcd.EtcdLockConfig;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.v1alpha1.Backend;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.PostgresBackend;
import dev.fenced.lock.policy.v1alpha1.RedisSentinel;
import java.net.URI;
import java.util.List;

/**
 * Where a policy's locks live, as one line without any credential: the backend type and what tells
 * one set of locks from another on it. Two policies with the same identity share the backend's
 * resources (a table, a key prefix, a base path); a policy whose identity changes moves its lock
 * family, and its epoch rises.
 *
 * <ul>
 *   <li>Redis: the URL without user information (or, through Sentinel, the master set's name and
 *       the sorted Sentinels), and the key prefix ({@code fenced})
 *   <li>Postgres: mode, host, port and database
 *   <li>Etcd: the sorted endpoints and the key prefix
 *   <li>ZooKeeper: the connect string and the base path
 *   <li>KubernetesLease: the namespace of the Leases
 *   <li>InProcess and None: the type alone
 * </ul>
 */
final class BackendIdentity {

  private BackendIdentity() {}

  /** The identity of a valid policy's backend. */
  static String of(LockPolicy policy) {
    Backend backend = policy.getSpec().getBackend();
    return switch (backend.getType()) {
      case Redis ->
          "Redis "
              + (backend.getRedis().getSentinel() == null
                  ? withoutUserInfo(backend.getRedis().getUrl())
                  : sentinel(backend.getRedis().getSentinel()))
              + " prefix="
              + LockServiceFactory.REDIS_KEY_PREFIX;
      case Postgres -> postgres(backend.getPostgres());
      case Etcd -> {
        List<String> endpoints = backend.getEtcd().getEndpoints().stream().sorted().toList();
        EtcdLockConfig config =
            new EtcdLockConfig(endpoints, backend.getEtcd().getKeyPrefix()); // normalises prefix
        yield "Etcd " + String.join(",", config.endpoints()) + " prefix=" + config.keyPrefix();
      }
      case ZooKeeper ->
          "ZooKeeper "
              + backend.getZookeeper().getConnectString()
              + " basePath="
              + backend.getZookeeper().getBasePath();
      case KubernetesLease -> {
        String namespace = backend.getKubernetesLease().getNamespace();
        yield "KubernetesLease namespace="
            + (namespace == null ? policy.getMetadata().getNamespace() : namespace);
      }
      case InProcess -> "InProcess";
      case None -> "None";
    };
  }

  /** Only the types whose resources live outside the operator's process are provisioned. */
  static boolean provisions(LockPolicy policy) {
    return switch (policy.getSpec().getBackend().getType()) {
      case Redis, Postgres, Etcd, ZooKeeper, KubernetesLease -> true;
      case InProcess, None -> false;
    };
  }

  /** The address to show in a message: host and port, never a credential. */
  static String endpoint(LockPolicy policy) {
    String identity = of(policy);
    int space = identity.indexOf(' ');
    return space < 0 ? identity : identity.substring(space + 1);
  }

  private static String postgres(PostgresBackend pg) {
    String host = pg.getHost();
    int port = pg.getPort() == null ? PostgresBackend.DEFAULT_PORT : pg.getPort();
    String database = pg.getDatabase();
    if (pg.getJdbcUrl() != null) {
      URI uri = URI.create(pg.getJdbcUrl().substring("jdbc:".length()));
      host = uri.getHost();
      port = uri.getPort() < 0 ? PostgresBackend.DEFAULT_PORT : uri.getPort();
      database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    }
    return "Postgres/" + pg.getMode() + " " + host + ":" + port + "/" + database;
  }

  private static String sentinel(RedisSentinel sentinel) {
    return "sentinel="
        + sentinel.getMasterName()
        + "@"
        + String.join(",", sentinel.getNodes().stream().sorted().toList());
  }

  private static String withoutUserInfo(String url) {
    try {
      URI uri = URI.create(url);
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null)
          .toString();
    } catch (Exception e) {
      int at = url.lastIndexOf('@');
      int scheme = url.indexOf("://");
      return at > 0 && scheme > 0 ? url.substring(0, scheme + 3) + url.substring(at + 1) : url;
    }
  }
}
