package dev.fenced.bench;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.etcd.EtcdLockConfig;
import dev.fenced.lock.etcd.EtcdLockService;
import dev.fenced.lock.inprocess.InProcessLockService;
import dev.fenced.lock.kubernetes.KubernetesLeaseLockConfig;
import dev.fenced.lock.kubernetes.KubernetesLeaseLockService;
import dev.fenced.lock.postgres.PostgresLockConfig;
import dev.fenced.lock.postgres.PostgresLockService;
import dev.fenced.lock.postgres.PostgresMode;
import dev.fenced.lock.redis.RedisLockConfig;
import dev.fenced.lock.redis.RedisLockService;
import dev.fenced.lock.zookeeper.ZooKeeperLockConfig;
import dev.fenced.lock.zookeeper.ZooKeeperLockService;
import io.vertx.core.Vertx;
import java.time.Duration;

/** A fenced {@link LockService} on the local servers, with the settings a LockPolicy would give. */
final class FencedTarget implements LockTarget {

  /** Long enough that no waiter of the contended runs (8 threads on one name) times out. */
  static final Duration MAX_WAIT = Duration.ofSeconds(30);

  static final LockSettings SETTINGS =
      new LockSettings(
          Duration.ofSeconds(10),
          Duration.ofSeconds(3),
          MAX_WAIT,
          LockSettings.Fencing.REQUIRED,
          0);

  private final Vertx vertx;
  private final MockApiServer apiServer;
  private final LockService service;

  private FencedTarget(Vertx vertx, MockApiServer apiServer, ManagedLockService service) {
    this.vertx = vertx;
    this.apiServer = apiServer;
    this.service = service;
    LockService.await(service.provision());
  }

  static FencedTarget inProcess() {
    return new FencedTarget(null, null, new InProcessLockService(SETTINGS));
  }

  static FencedTarget redis() {
    Vertx vertx = Vertx.vertx();
    return new FencedTarget(
        vertx,
        null,
        new RedisLockService(vertx, RedisLockConfig.of(Servers.redisUrl()), SETTINGS, null));
  }

  static FencedTarget postgres(PostgresMode mode) {
    Vertx vertx = Vertx.vertx();
    PostgresLockConfig config =
        new PostgresLockConfig(
            Servers.pgHost(),
            Servers.pgPort(),
            Servers.pgDatabase(),
            Servers.pgUser(),
            Servers.pgPassword(),
            mode);
    return new FencedTarget(vertx, null, PostgresLockService.create(vertx, config, SETTINGS, null));
  }

  static FencedTarget etcd() {
    return new FencedTarget(
        null,
        null,
        new EtcdLockService(
            EtcdLockConfig.parse(Servers.etcdEndpoints(), "/fenced/bench"), SETTINGS));
  }

  static FencedTarget zookeeper() {
    return new FencedTarget(
        null,
        null,
        new ZooKeeperLockService(
            new ZooKeeperLockConfig(
                Servers.zkConnect(),
                "/fenced/bench",
                ZooKeeperLockConfig.DEFAULT_OPERATION_TIMEOUT),
            SETTINGS));
  }

  static FencedTarget kubernetesLease() {
    MockApiServer apiServer = new MockApiServer();
    return new FencedTarget(
        null,
        apiServer,
        new KubernetesLeaseLockService(
            apiServer.client(), new KubernetesLeaseLockConfig("bench"), SETTINGS, null));
  }

  @Override
  public Object acquire(String name) {
    return service.acquireBlocking(name, MAX_WAIT);
  }

  @Override
  public void release(Object hold) {
    LockService.await(((LockHandle) hold).release());
  }

  @Override
  public void close() {
    service.close();
    if (apiServer != null) {
      apiServer.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }
}
