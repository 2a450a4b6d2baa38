package dev.fenced.lock.bench;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.TestServers;
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
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A rough, side-by-side figure of uncontended acquire+release cycles per second for every backend,
 * on the servers {@code scripts/backends.sh} runs: each of {@code threads} workers takes and
 * releases its own lock name in a loop, one backend after the other, in one run. A first look, not
 * a benchmark: the JMH suite measures properly.
 *
 * <p>{@code scripts/cycle-rate.sh [seconds] [threads]}
 */
public final class UncontendedCycles {

  /** Held so the level sticks: the mock API server logs every request at INFO. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private UncontendedCycles() {}

  public static void main(String[] args) throws Exception {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    LockSettings settings =
        new LockSettings(
            Duration.ofSeconds(10),
            Duration.ofSeconds(3),
            Duration.ofSeconds(5),
            LockSettings.Fencing.REQUIRED,
            0);
    Vertx vertx = Vertx.vertx();
    KubernetesMockServer apiServer =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    apiServer.init();
    KubernetesClient kube = apiServer.createClient();
    PostgresLockConfig pg =
        new PostgresLockConfig(
            TestServers.pgHost(),
            TestServers.pgPort(),
            TestServers.pgDatabase(),
            TestServers.pgUser(),
            TestServers.pgPassword(),
            PostgresMode.LockTable);

    List<Supplier<LockService>> backends =
        List.of(
            () -> new InProcessLockService(settings),
            () ->
                new RedisLockService(
                    vertx, RedisLockConfig.of(TestServers.redisUrl()), settings, null),
            () -> PostgresLockService.create(vertx, pg, settings, null),
            () ->
                PostgresLockService.create(
                    vertx, pg.withMode(PostgresMode.RowLock), settings, null),
            () ->
                PostgresLockService.create(
                    vertx, pg.withMode(PostgresMode.Advisory), settings, null),
            () ->
                new EtcdLockService(
                    EtcdLockConfig.parse(TestServers.etcdEndpoints(), "/fenced/bench"), settings),
            () ->
                new ZooKeeperLockService(
                    new ZooKeeperLockConfig(
                        TestServers.zkConnect(),
                        "/fenced/bench",
                        ZooKeeperLockConfig.DEFAULT_OPERATION_TIMEOUT),
                    settings),
            () ->
                new KubernetesLeaseLockService(
                    kube, new KubernetesLeaseLockConfig("bench"), settings, null));

    System.out.printf(
        Locale.ROOT,
        "uncontended acquire+release, %d threads x own lock name, %d s each after 1 s warm-up%n",
        threads,
        seconds);
    System.out.printf(Locale.ROOT, "%-20s %12s %12s%n", "backend", "cycles/s", "mean ms");
    for (Supplier<LockService> backend : backends) {
      try (LockService service = backend.get()) {
        LockService.await(service.provision());
        run(service, threads, 1);
        double rate = run(service, threads, seconds);
        System.out.printf(
            Locale.ROOT,
            "%-20s %12.0f %12.2f%s%n",
            service.backend(),
            rate,
            1000.0 * threads / rate,
            service instanceof KubernetesLeaseLockService ? "  (Fabric8 mock API server)" : "");
      } catch (RuntimeException e) {
        System.out.printf(Locale.ROOT, "%-20s failed: %s%n", "?", e);
      }
    }
    kube.close();
    apiServer.destroy();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    System.exit(0);
  }

  private static double run(LockService service, int threads, int seconds) throws Exception {
    LongAdder cycles = new LongAdder();
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> done = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      String name = "bench:" + UUID.randomUUID();
      done.add(
          pool.submit(
              () -> {
                while (System.nanoTime() < end) {
                  LockHandle h = service.acquireBlocking(name, Duration.ofSeconds(5));
                  LockService.await(h.release());
                  cycles.increment();
                }
                return null;
              }));
    }
    for (Future<?> f : done) {
      f.get();
    }
    pool.shutdown();
    return cycles.sum() / ((System.nanoTime() - start) / 1e9);
  }
}
