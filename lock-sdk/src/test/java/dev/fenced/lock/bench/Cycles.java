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
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Rough, side-by-side acquire+release figures for every backend on the servers {@code
 * scripts/backends.sh} runs, one backend after the other in one run, with Redisson's {@code RLock}
 * on the same Redis as the reference. A first look, not a benchmark: the JMH suite measures
 * properly.
 *
 * <ul>
 *   <li>{@code uncontended}: each of {@code threads} workers takes and releases its own lock name.
 *   <li>{@code single}: the same with one worker, so one cycle's round trips and thread hops show.
 *   <li>{@code contended}: all workers take and release one lock name, as fast as they can.
 *   <li>{@code handoff}: all workers on one name, each hold short; reports hand-offs per second
 *       (release of one worker to the next different worker holding) and their mean latency.
 * </ul>
 *
 * <p>{@code scripts/cycle-rate.sh [seconds] [threads] [modes] [backends]}
 */
public final class Cycles {

  /** Held so the level sticks: the mock API server logs every request at INFO. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private static final Duration MAX_WAIT = Duration.ofSeconds(30);

  private Cycles() {}

  /** What a run needs from a lock: take one by name, give it back. */
  interface Locker extends AutoCloseable {
    String label();

    /** Requests the server has handled so far, or -1 when not known; per cycle it shows herds. */
    default long serverOps() {
      return -1;
    }

    Runnable lock(String name) throws Exception;

    @Override
    void close();
  }

  public static void main(String[] args) throws Exception {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    List<String> modes =
        List.of((args.length > 2 ? args[2] : "single,uncontended,contended,handoff").split(","));
    Set<String> only =
        args.length > 3 && !args[3].isBlank()
            ? Set.of(args[3].toLowerCase(Locale.ROOT).split(","))
            : null;
    LockSettings settings =
        new LockSettings(
            Duration.ofSeconds(10),
            Duration.ofSeconds(3),
            MAX_WAIT,
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

    Map<String, java.util.function.Supplier<Locker>> backends = new LinkedHashMap<>();
    backends.put("inprocess", () -> sdk(new InProcessLockService(settings)));
    java.util.function.LongSupplier redisOps = () -> redisCommands(vertx);
    java.util.function.LongSupplier pgOps = Cycles::pgTransactions;
    backends.put(
        "redis",
        () ->
            sdk(
                new RedisLockService(
                    vertx, RedisLockConfig.of(TestServers.redisUrl()), settings, null),
                redisOps));
    backends.put("redisson", () -> redisson(redisOps));
    backends.put(
        "pg-locktable", () -> sdk(PostgresLockService.create(vertx, pg, settings, null), pgOps));
    backends.put(
        "pg-rowlock",
        () ->
            sdk(
                PostgresLockService.create(
                    vertx, pg.withMode(PostgresMode.RowLock), settings, null)));
    backends.put(
        "pg-advisory",
        () ->
            sdk(
                PostgresLockService.create(
                    vertx, pg.withMode(PostgresMode.Advisory), settings, null)));
    backends.put(
        "etcd",
        () ->
            sdk(
                new EtcdLockService(
                    EtcdLockConfig.parse(TestServers.etcdEndpoints(), "/fenced/bench"), settings)));
    backends.put(
        "zookeeper",
        () ->
            sdk(
                new ZooKeeperLockService(
                    new ZooKeeperLockConfig(
                        TestServers.zkConnect(),
                        "/fenced/bench",
                        ZooKeeperLockConfig.DEFAULT_OPERATION_TIMEOUT),
                    settings)));
    backends.put(
        "k8s-lease",
        () ->
            sdk(
                new KubernetesLeaseLockService(
                    kube, new KubernetesLeaseLockConfig("bench"), settings, null)));

    System.out.printf(
        Locale.ROOT,
        "acquire+release, %d s per figure after 1 s warm-up; threads=%d (single: 1)%n",
        seconds,
        threads);
    System.out.printf(
        Locale.ROOT,
        "%-14s %-12s %8s %12s %10s %14s %12s%n",
        "backend",
        "mode",
        "threads",
        "cycles/s",
        "mean ms",
        "handoff ms",
        "ops/cycle");
    for (var backend : backends.entrySet()) {
      if (only != null && !only.contains(backend.getKey())) {
        continue;
      }
      try (Locker locker = backend.getValue().get()) {
        for (String mode : modes) {
          int n = mode.equals("single") ? 1 : threads;
          run(locker, mode, n, 1);
          long opsBefore = locker.serverOps();
          Result r = run(locker, mode, n, seconds);
          long ops = locker.serverOps() - opsBefore;
          System.out.printf(
              Locale.ROOT,
              "%-14s %-12s %8d %12.0f %10.2f %14s %12s%n",
              backend.getKey(),
              mode,
              n,
              r.rate,
              1000.0 * n / r.rate,
              r.handoffMillis < 0 ? "" : String.format(Locale.ROOT, "%.3f", r.handoffMillis),
              opsBefore < 0 ? "" : String.format(Locale.ROOT, "%.2f", (double) ops / r.cycles));
        }
      } catch (Exception e) {
        System.out.printf(Locale.ROOT, "%-14s failed: %s%n", backend.getKey(), e);
      }
    }
    kube.close();
    apiServer.destroy();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    System.exit(0);
  }

  private record Result(double rate, double handoffMillis, long cycles) {}

  private static Result run(Locker locker, String mode, int threads, int seconds) throws Exception {
    LongAdder cycles = new LongAdder();
    LongAdder handoffs = new LongAdder();
    LongAdder handoffNanos = new LongAdder();
    // The worker and the time of the last release, for the hand-off latency.
    AtomicLong lastReleaseAt = new AtomicLong();
    AtomicLong lastReleaser = new AtomicLong(-1);
    boolean shared = !mode.equals("uncontended") && !mode.equals("single");
    boolean handoff = mode.equals("handoff");
    String sharedName = "bench:" + UUID.randomUUID();
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> done = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      long worker = t;
      String name = shared ? sharedName : "bench:" + UUID.randomUUID();
      done.add(
          pool.submit(
              () -> {
                while (System.nanoTime() < end) {
                  Runnable release = locker.lock(name);
                  if (handoff) {
                    long now = System.nanoTime();
                    long from = lastReleaser.get();
                    if (from >= 0 && from != worker) {
                      handoffs.increment();
                      handoffNanos.add(now - lastReleaseAt.get());
                    }
                    lastReleaser.set(-1); // counted once
                    lastReleaseAt.set(System.nanoTime());
                    lastReleaser.set(worker);
                  }
                  release.run();
                  cycles.increment();
                }
                return null;
              }));
    }
    for (Future<?> f : done) {
      f.get();
    }
    pool.shutdown();
    double elapsed = (System.nanoTime() - start) / 1e9;
    if (handoff) {
      long n = handoffs.sum();
      return new Result(
          n / elapsed, n == 0 ? Double.NaN : handoffNanos.sum() / 1e6 / n, cycles.sum());
    }
    return new Result(cycles.sum() / elapsed, -1, cycles.sum());
  }

  private static Locker sdk(LockService service) {
    return sdk(service, () -> -1);
  }

  private static Locker sdk(LockService service, java.util.function.LongSupplier ops) {
    LockService.await(service.provision());
    return new Locker() {
      @Override
      public long serverOps() {
        return ops.getAsLong();
      }

      @Override
      public String label() {
        return service.backend();
      }

      @Override
      public Runnable lock(String name) {
        LockHandle h = service.acquireBlocking(name, MAX_WAIT);
        return () -> LockService.await(h.release());
      }

      @Override
      public void close() {
        service.close();
      }
    };
  }

  /** Commands Redis has processed ({@code INFO stats}); the two INFO calls add 2 in all. */
  private static long redisCommands(Vertx vertx) {
    io.vertx.redis.client.Redis raw =
        io.vertx.redis.client.Redis.createClient(vertx, TestServers.redisUrl());
    try {
      String info =
          raw.send(
                  io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.INFO)
                      .arg("stats"))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS)
              .toString();
      for (String line : info.split("\r?\n")) {
        if (line.startsWith("total_commands_processed:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      return -1;
    } catch (Exception e) {
      return -1;
    } finally {
      raw.close();
    }
  }

  /** Committed transactions of the bench database: one per LockTable statement. */
  private static long pgTransactions() {
    try (var c = TestServers.jdbc();
        var s = c.createStatement()) {
      s.execute("SELECT pg_stat_clear_snapshot()");
      try (var rs =
          s.executeQuery(
              "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (Exception e) {
      return -1;
    }
  }

  private static Locker redisson(java.util.function.LongSupplier ops) {
    URI uri = URI.create(TestServers.redisUrl());
    Config config = new Config();
    config
        .useSingleServer()
        .setAddress("redis://" + uri.getHost() + ":" + uri.getPort())
        .setConnectionMinimumIdleSize(4)
        .setConnectionPoolSize(8);
    RedissonClient client = Redisson.create(config);
    return new Locker() {
      @Override
      public String label() {
        return "Redisson";
      }

      @Override
      public long serverOps() {
        return ops.getAsLong();
      }

      @Override
      public Runnable lock(String name) throws Exception {
        RLock lock = client.getLock(name);
        // Watchdog renewal, as the SDK's holds renew.
        if (!lock.tryLock(MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("Redisson lock not had in " + MAX_WAIT);
        }
        return lock::unlock;
      }

      @Override
      public void close() {
        client.shutdown();
      }
    };
  }
}
