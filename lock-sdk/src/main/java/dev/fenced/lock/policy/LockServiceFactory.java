package dev.fenced.lock.policy;

import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.etcd.EtcdLockConfig;
import dev.fenced.lock.etcd.EtcdLockService;
import dev.fenced.lock.inprocess.InProcessLockService;
import dev.fenced.lock.kubernetes.KubernetesLeaseLockConfig;
import dev.fenced.lock.kubernetes.KubernetesLeaseLockService;
import dev.fenced.lock.none.NoLockService;
import dev.fenced.lock.policy.v1alpha1.Backend;
import dev.fenced.lock.policy.v1alpha1.CredentialsSecretRef;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.PostgresBackend;
import dev.fenced.lock.policy.v1alpha1.RedisBackend;
import dev.fenced.lock.policy.v1alpha1.SecretKeyRef;
import dev.fenced.lock.postgres.PostgresLockConfig;
import dev.fenced.lock.postgres.PostgresLockService;
import dev.fenced.lock.postgres.PostgresMode;
import dev.fenced.lock.redis.RedisLockConfig;
import dev.fenced.lock.redis.RedisLockService;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.zookeeper.ZooKeeperLockConfig;
import dev.fenced.lock.zookeeper.ZooKeeperLockService;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Builds the service a valid LockPolicy stands for ({@link ManagedLockService}: its locks and their
 * administration), with its secrets resolved. The caller owns the result and closes it; the factory
 * owns nothing but a reference to what it was given.
 */
public final class LockServiceFactory {

  /** Key prefix for Redis locks made from policies. */
  public static final String REDIS_KEY_PREFIX = "fenced";

  private final Vertx vertx;
  private final SecretResolver secrets;
  private final Supplier<KubernetesClient> kubernetes;
  private final LeaseKeeper keeper;
  private final Function<String, Redis> redisClients;
  private final double clockDrift;

  /**
   * @param vertx for the Redis and PostgreSQL clients; owned by the caller
   * @param secrets where the Secrets that policies reference are read
   * @param kubernetes the client for KubernetesLease policies, asked for only when one is built;
   *     null when there is no cluster
   * @param keeper the timer every service shares; null to give each service its own
   */
  public LockServiceFactory(
      Vertx vertx,
      SecretResolver secrets,
      Supplier<KubernetesClient> kubernetes,
      LeaseKeeper keeper) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.secrets = Objects.requireNonNull(secrets, "secrets");
    this.kubernetes = kubernetes;
    this.keeper = keeper;
    this.redisClients = url -> null;
    this.clockDrift = LockSettings.DEFAULT_CLOCK_DRIFT;
  }

  private LockServiceFactory(
      LockServiceFactory from, Function<String, Redis> redisClients, double clockDrift) {
    this.vertx = from.vertx;
    this.secrets = from.secrets;
    this.kubernetes = from.kubernetes;
    this.keeper = from.keeper;
    this.redisClients = redisClients;
    this.clockDrift = clockDrift;
  }

  /**
   * A factory that asks {@code clientForUrl} for a Redis client before building one of its own, so
   * an application can hand over the clients its framework manages (pools, configuration, health).
   * The function answers null for a URL it has no client for; the clients it gives stay its own.
   */
  public LockServiceFactory withRedisClients(Function<String, Redis> clientForUrl) {
    return new LockServiceFactory(
        this, Objects.requireNonNull(clientForUrl, "clientForUrl"), clockDrift);
  }

  /**
   * A factory whose services trust a hold for the lease less {@code fraction} of it ({@link
   * LockSettings#clockDrift}): how much faster the backend's clock may run than this process's. The
   * LockPolicy does not carry it, because it is a property of the machines a service runs on, not
   * of the lock family; every service built from now on uses it.
   *
   * @throws IllegalArgumentException unless {@code 0 <= fraction < 0.5}
   */
  public LockServiceFactory withClockDrift(double fraction) {
    LockSettings.DEFAULTS.withClockDrift(fraction); // the same checks every hold's settings pass
    return new LockServiceFactory(this, redisClients, fraction);
  }

  /** The clock-drift margin every service this factory builds uses. */
  public double clockDrift() {
    return clockDrift;
  }

  /**
   * A new service for {@code policy}, not yet provisioned.
   *
   * @throws InvalidLockPolicyException naming the policy and every problem: an invalid spec, or a
   *     Secret or key it references that does not exist
   */
  public ManagedLockService create(LockPolicy policy) {
    String ref = PolicyRef.of(policy).toString();
    LockSettings settings;
    try {
      settings = LockPolicyValidator.toSettings(policy);
    } catch (IllegalArgumentException e) {
      throw new InvalidLockPolicyException(null, e.getMessage());
    }
    try {
      settings = settings.withClockDrift(clockDrift);
    } catch (IllegalArgumentException e) {
      throw new InvalidLockPolicyException(
          null,
          "LockPolicy "
              + ref
              + " leaves no room for this service's clock-drift margin of "
              + clockDrift
              + " of the lease: "
              + e.getMessage()
              + "; lengthen spec.leaseDuration or shorten spec.renewInterval, or lower the"
              + " service's clock drift");
    }
    Backend backend = policy.getSpec().getBackend();
    try {
      return switch (backend.getType()) {
        case None -> new NoLockService(settings, keeper);
        case InProcess -> new InProcessLockService(settings, keeper);
        case Redis -> redis(backend.getRedis(), settings);
        case Postgres -> postgres(backend.getPostgres(), settings);
        case Etcd ->
            new EtcdLockService(
                new EtcdLockConfig(
                    List.copyOf(backend.getEtcd().getEndpoints()),
                    backend.getEtcd().getKeyPrefix()),
                settings,
                keeper);
        case ZooKeeper ->
            new ZooKeeperLockService(
                new ZooKeeperLockConfig(
                    backend.getZookeeper().getConnectString(),
                    backend.getZookeeper().getBasePath(),
                    ZooKeeperLockConfig.DEFAULT_OPERATION_TIMEOUT),
                settings,
                keeper);
        case KubernetesLease -> lease(policy, settings);
      };
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InvalidLockPolicyException(null, "LockPolicy " + ref + ": " + e.getMessage());
    }
  }

  private ManagedLockService redis(RedisBackend redis, LockSettings settings) {
    SecretKeyRef ref = redis.getPasswordSecretRef();
    if (redis.getSentinel() != null) {
      // Only a client of its own follows the Sentinels; an application's client is for one URL.
      String password = ref == null ? null : secrets.require(ref.getName(), ref.getKey());
      RedisLockConfig.Sentinel sentinel =
          new RedisLockConfig.Sentinel(
              redis.getSentinel().getMasterName(), List.copyOf(redis.getSentinel().getNodes()));
      return new RedisLockService(
          vertx, RedisLockConfig.sentinel(sentinel, password, REDIS_KEY_PREFIX), settings, keeper);
    }
    Redis client = redisClients.apply(redis.getUrl());
    if (client != null) {
      return new RedisLockService(
          vertx, client, RedisLockConfig.forClient(REDIS_KEY_PREFIX), settings, keeper);
    }
    String password = ref == null ? null : secrets.require(ref.getName(), ref.getKey());
    return new RedisLockService(
        vertx, new RedisLockConfig(redis.getUrl(), password, REDIS_KEY_PREFIX), settings, keeper);
  }

  private ManagedLockService postgres(PostgresBackend pg, LockSettings settings) {
    String host = pg.getHost();
    int port = pg.getPort() == null ? PostgresBackend.DEFAULT_PORT : pg.getPort();
    String database = pg.getDatabase();
    String user = "postgres";
    if (pg.getJdbcUrl() != null) {
      // jdbc:postgresql://host:port/database?user=...
      URI uri = URI.create(pg.getJdbcUrl().substring("jdbc:".length()));
      host = uri.getHost();
      port = uri.getPort() < 0 ? PostgresBackend.DEFAULT_PORT : uri.getPort();
      database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
      user = queryParameter(uri, "user", user);
    }
    String password = "";
    CredentialsSecretRef creds = pg.getCredentialsSecretRef();
    if (creds != null) {
      user = secrets.require(creds.getName(), creds.getUsernameKey());
      password = secrets.require(creds.getName(), creds.getPasswordKey());
    }
    // One case per mode of the model: a new one does not compile until it is mapped here.
    PostgresMode mode =
        switch (pg.getMode()) {
          case LockTable -> PostgresMode.LockTable;
          case RowLock -> PostgresMode.RowLock;
          case Advisory -> PostgresMode.Advisory;
        };
    return PostgresLockService.create(
        vertx,
        new PostgresLockConfig(host, port, database, user, password, mode),
        settings,
        keeper);
  }

  private ManagedLockService lease(LockPolicy policy, LockSettings settings) {
    if (kubernetes == null) {
      throw new IllegalStateException(
          "spec.backend.type KubernetesLease needs a Kubernetes client, and this process has none");
    }
    String namespace = policy.getSpec().getBackend().getKubernetesLease().getNamespace();
    if (namespace == null) {
      namespace = policy.getMetadata().getNamespace();
    }
    return new KubernetesLeaseLockService(
        kubernetes.get(), new KubernetesLeaseLockConfig(namespace), settings, keeper);
  }

  private static String queryParameter(URI uri, String name, String fallback) {
    String query = uri.getQuery();
    if (query == null) {
      return fallback;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return pair.substring(eq + 1);
      }
    }
    return fallback;
  }
}
