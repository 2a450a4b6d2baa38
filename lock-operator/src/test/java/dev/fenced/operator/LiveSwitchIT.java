package dev.fenced.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.fencing.FencedUpdate;
import dev.fenced.lock.policy.KubernetesPolicySource;
import dev.fenced.lock.policy.KubernetesSecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A LockPolicy moved from Postgres to Redis while workers increment a counter under it, with the
 * real operator reconciling (in this JVM, on the Fabric8 mock API server in CRUD mode) and the real
 * PostgreSQL and Redis of {@code scripts/backends.sh}.
 *
 * <p>The workers follow the policy as a service does: a {@link KubernetesPolicySource} (which
 * offers a generation only once the operator has marked it Ready) feeding {@link PolicyLocks} on
 * their own Vert.x, credentials read from a Secret. Each increment reads the counter row and writes
 * it back fenced with the hold's token and identity ({@link FencedUpdate} with a holder column:
 * {@code ... WHERE fence < token OR (fence = token AND fence_holder = holder)}), so only the lock
 * keeps read and write together, and only the fence stops a stale holder.
 *
 * <p>The same workload with the lock taken away (policy type {@code None}) loses increments, so the
 * exact count of the locked run is evidence and not luck.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class LiveSwitchIT {

  private static final String NS = "live-switch";
  private static final int WORKERS = 8;
  private static final int INCREMENTS = 600;
  private static final int SWITCH_AT = INCREMENTS / 4;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final FencedUpdate SET =
      FencedUpdate.table("live_switch_counters")
          .set("n")
          .where("name")
          .fence("fence", "fence_holder");

  @Inject KubernetesClient client;

  /** One write the fence accepted: the counter value it wrote and the hold's fence. */
  record Accepted(long value, long token, String holder) {
    Fence fence() {
      return new Fence(token, holder);
    }
  }

  /** What a run saw. */
  record Run(List<Accepted> accepted, long finalValue, int staleRejected, int lockFailures) {}

  @Test
  void movingFromPostgresToRedisUnderTheOperatorLosesNoIncrementAndTokensKeepRising()
      throws Exception {
    Policies.namespace(client, NS);
    Policies.pgSecret(client, NS);
    client
        .resource(
            Policies.yaml(NS, "counters", "\"counter:*\"", Policies.postgres("LockTable") + TIMING))
        .create();
    LockPolicy first = awaitPolicy("counters", PolicyConditions::isReadyForCurrentGeneration);
    long epochBefore = first.getStatus().getEpoch();
    assertThat(first.getSpec().getBackend().getType().toString()).isEqualTo("Postgres");

    Vertx vertx = Vertx.vertx();
    try (KubernetesPolicySource source = new KubernetesPolicySource(client, NS);
        PolicyLocks locks =
            new PolicyLocks(
                source,
                new LockServiceFactory(
                    vertx, new KubernetesSecretResolver(client, NS), () -> client, null))) {
      awaitBackend(locks, "counter:a", "Postgres/LockTable");

      Run run =
          increment(
              locks,
              "counter:a",
              accepted -> {
                // kubectl edit: the spec moves to Redis; the operator does the rest.
                var redis =
                    Policies.yaml(NS, "counters", "\"counter:*\"", Policies.redis() + TIMING)
                        .getSpec()
                        .getBackend();
                client
                    .resources(LockPolicy.class)
                    .inNamespace(NS)
                    .withName("counters")
                    .edit(
                        p -> {
                          p.getSpec().setBackend(redis);
                          return p;
                        });
              });

      LockPolicy after = awaitPolicy("counters", PolicyConditions::isReadyForCurrentGeneration);
      Map<Long, Long> writesByEpoch =
          run.accepted().stream()
              .collect(
                  Collectors.groupingBy(
                      a -> FencingTokens.epoch(a.token()), TreeMap::new, Collectors.counting()));
      List<Accepted> ordered =
          run.accepted().stream().sorted(Comparator.comparingLong(Accepted::value)).toList();
      System.out.printf(
          "live switch: %d accepted, final counter %d, writes by epoch %s, stale writes refused"
              + " %d, acquires failed %d, first token %s, last epoch-1 token %s, first epoch-2"
              + " token %s, status.epoch %d -> %d%n",
          run.accepted().size(),
          run.finalValue(),
          writesByEpoch,
          run.staleRejected(),
          run.lockFailures(),
          describe(ordered.get(0).token()),
          ordered.stream()
              .filter(a -> FencingTokens.epoch(a.token()) == epochBefore)
              .reduce((a, b) -> b)
              .map(a -> describe(a.token()))
              .orElse("-"),
          ordered.stream()
              .filter(a -> FencingTokens.epoch(a.token()) == epochBefore + 1)
              .findFirst()
              .map(a -> describe(a.token()))
              .orElse("-"),
          epochBefore,
          after.getStatus().getEpoch());

      assertThat(after.getStatus().getEpoch())
          .as("the operator raised the epoch once for one backend move")
          .isEqualTo(epochBefore + 1);
      assertThat(after.getStatus().getBackendIdentity()).startsWith("Redis ");
      assertThat(locks.resolve("counter:a").orElseThrow().service().backend()).isEqualTo("Redis");
      assertThat(run.accepted()).hasSize(INCREMENTS);
      assertThat(run.finalValue())
          .as("final counter = accepted increments: no update lost across the switch")
          .isEqualTo(run.accepted().size());
      assertThat(ordered)
          .extracting(Accepted::value)
          .as("each accepted write raised the counter by one")
          .isEqualTo(java.util.stream.LongStream.rangeClosed(1, INCREMENTS).boxed().toList());
      for (int i = 1; i < ordered.size(); i++) {
        assertThat(ordered.get(i).token())
            .as(
                "the write of %d carries a larger token than the write of %d",
                ordered.get(i).value(), ordered.get(i - 1).value())
            .isGreaterThan(ordered.get(i - 1).token());
      }
      assertThat(ordered.stream().map(a -> FencingTokens.epoch(a.token())).toList())
          .as("Postgres writes (epoch %d), then only Redis writes (epoch %d)", 1, 2)
          .containsOnly(epochBefore, epochBefore + 1)
          .isSorted();
      assertThat(writesByEpoch.get(epochBefore)).as("writes on Postgres").isPositive();
      assertThat(writesByEpoch.get(epochBefore + 1)).as("writes on Redis").isPositive();
      assertThat(run.staleRejected())
          .as("the move drained the Postgres holds first: no worker ever wrote as a stale holder")
          .isZero();

      // The fence still guards the row: the last Postgres-era write, replayed late, is refused,
      // and so is the newest token presented by another hold.
      Accepted lastOnPostgres =
          ordered.stream()
              .filter(a -> FencingTokens.epoch(a.token()) == epochBefore)
              .reduce((a, b) -> b)
              .orElseThrow();
      Accepted newest = ordered.get(ordered.size() - 1);
      try (Connection c = jdbc()) {
        assertThat(fencedSet(c, "counter:a", 0, lastOnPostgres.fence()))
            .as("a late write of the old backend's last holder")
            .isFalse();
        assertThat(fencedSet(c, "counter:a", 0, new Fence(newest.token(), "another-holder")))
            .as("the newest token from a hold that did not write it")
            .isFalse();
        assertThat(read(c, "counter:a")).isEqualTo(INCREMENTS);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The race the lock prevents, made visible: the same workers and the same fenced writes under a
   * policy of type {@code None} (a hold that excludes nobody, token always counter 0 of its epoch,
   * so the fence accepts every write). Read-then-write increments overlap and overwrite each other.
   */
  @Test
  void withoutALockTheSameWorkloadLosesIncrements() throws Exception {
    Policies.namespace(client, NS);
    String spec =
        """
        backend: { type: None }
        fencing: Optional
        """;
    client.resource(Policies.yaml(NS, "unlocked", "\"unlocked:*\"", spec)).create();
    awaitPolicy("unlocked", PolicyConditions::isReadyForCurrentGeneration);

    Vertx vertx = Vertx.vertx();
    try (KubernetesPolicySource source = new KubernetesPolicySource(client, NS);
        PolicyLocks locks =
            new PolicyLocks(
                source,
                new LockServiceFactory(
                    vertx, new KubernetesSecretResolver(client, NS), () -> client, null))) {
      awaitBackend(locks, "unlocked:a", "None");
      Run run = increment(locks, "unlocked:a", accepted -> {});
      System.out.printf(
          "without a lock: %d writes accepted, final counter %d (%d increments lost)%n",
          run.accepted().size(), run.finalValue(), run.accepted().size() - run.finalValue());
      assertThat(run.finalValue())
          .as("overlapping read-then-write increments overwrite each other")
          .isLessThan(run.accepted().size());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static final String TIMING =
      """
      leaseDuration: 10s
      renewInterval: 3s
      maxWait: 5s
      fencing: Required
      """;

  /**
   * {@link #WORKERS} threads increment the row of {@code lockName} under that lock until {@link
   * #INCREMENTS} writes were accepted; {@code atSwitch} runs once, on its own thread, when {@link
   * #SWITCH_AT} were.
   */
  private Run increment(PolicyLocks locks, String lockName, SwitchAction atSwitch)
      throws Exception {
    resetCounter(lockName);
    ConcurrentLinkedQueue<Accepted> accepted = new ConcurrentLinkedQueue<>();
    AtomicInteger count = new AtomicInteger();
    AtomicInteger stale = new AtomicInteger();
    AtomicInteger lockFailures = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS + 1);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        workers.add(
            pool.submit(
                () -> {
                  try (Connection c = jdbc()) {
                    while (count.get() < INCREMENTS) {
                      LockHandle hold;
                      try {
                        hold = LockService.await(locks.acquire(lockName));
                      } catch (LockException e) {
                        // A wait that ran out while the policy moved; try again.
                        lockFailures.incrementAndGet();
                        continue;
                      }
                      try {
                        if (count.get() >= INCREMENTS) {
                          break;
                        }
                        long next = read(c, lockName) + 1;
                        if (fencedSet(c, lockName, next, Fence.of(hold))) {
                          accepted.add(new Accepted(next, hold.fencingToken(), hold.ownerId()));
                          count.incrementAndGet();
                        } else {
                          stale.incrementAndGet();
                        }
                      } finally {
                        LockService.await(hold.release());
                      }
                    }
                  }
                  return null;
                }));
      }
      Future<?> switched =
          pool.submit(
              () -> {
                await().atMost(WAIT).until(() -> count.get() >= SWITCH_AT);
                atSwitch.run(accepted);
                return null;
              });
      switched.get(2, TimeUnit.MINUTES);
      for (Future<?> worker : workers) {
        worker.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    try (Connection c = jdbc()) {
      return new Run(List.copyOf(accepted), read(c, lockName), stale.get(), lockFailures.get());
    }
  }

  @FunctionalInterface
  private interface SwitchAction {
    void run(ConcurrentLinkedQueue<Accepted> acceptedSoFar) throws Exception;
  }

  private static void resetCounter(String name) throws SQLException {
    try (Connection c = jdbc();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS live_switch_counters ("
              + "name text PRIMARY KEY, n bigint NOT NULL, fence bigint NOT NULL DEFAULT 0,"
              + " fence_holder text)");
      s.execute("ALTER TABLE live_switch_counters ADD COLUMN IF NOT EXISTS fence_holder text");
    }
    try (Connection c = jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO live_switch_counters(name, n, fence, fence_holder) VALUES (?, 0, 0, NULL)"
                    + " ON CONFLICT (name) DO UPDATE SET n = 0, fence = 0, fence_holder = NULL")) {
      s.setString(1, name);
      s.executeUpdate();
    }
  }

  /**
   * Reads the counter: its own statement, committed alone, so only the lock ties it to the write.
   */
  private static long read(Connection c, String name) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT n FROM live_switch_counters WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Writes {@code value} unless a newer token, or the same token from another hold, has written the
   * row: false when refused.
   */
  private static boolean fencedSet(Connection c, String name, long value, Fence fence)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(SET.jdbcSql())) {
      List<Object> params = SET.jdbcParams(List.of(value), List.of(name), fence);
      for (int i = 0; i < params.size(); i++) {
        s.setObject(i + 1, params.get(i));
      }
      return s.executeUpdate() == 1;
    }
  }

  private static Connection jdbc() throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://"
            + Servers.pgHost()
            + ":"
            + Servers.pgPort()
            + "/"
            + Servers.pgDatabase(),
        Servers.pgUser(),
        Servers.pgPassword());
  }

  private LockPolicy awaitPolicy(String name, Predicate<LockPolicy> until) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> client.resources(LockPolicy.class).inNamespace(NS).withName(name).get(),
            p -> p != null && p.getStatus() != null && until.test(p));
  }

  private static void awaitBackend(PolicyLocks locks, String lockName, String backend) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(locks.resolve(lockName))
                    .hasValueSatisfying(a -> assertThat(a.service().backend()).isEqualTo(backend)));
  }

  private static String describe(long token) {
    return token
        + " (epoch "
        + FencingTokens.epoch(token)
        + ", counter "
        + FencingTokens.counter(token)
        + ")";
  }
}
