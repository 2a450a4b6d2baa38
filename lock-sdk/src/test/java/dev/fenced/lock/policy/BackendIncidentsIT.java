package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.testing.EpochRise;
import dev.fenced.lock.testing.ScratchRedis;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backend incidents that restart fencing counters, with the policy read from a file (no operator):
 * the services' own check ({@link IncarnationGuard}, every 200 ms here) must notice the new
 * incarnation and raise the epoch through the backend's ledger, so every hold after the incident
 * carries a token above every one before it.
 *
 * <p>Each case shows the damage too: a service built at the old epoch without the check (the
 * factory's service alone) is handed a token no larger than one already issued for the same name.
 * The times printed (incident to the first hold at the new epoch) are measured on a loaded machine
 * and are for direction only.
 */
class BackendIncidentsIT {

  private static final Duration CHECK = Duration.ofMillis(200);
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private Vertx vertx;
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** What one incident run saw. */
  record Seen(long before, long beforeOther, EpochRise rise, Long unguardedToken) {
    int oldEpochHolds() {
      return rise.oldEpochHolds();
    }
  }

  @FunctionalInterface
  interface Incident {
    void happen() throws Exception;
  }

  @Test
  void redisRestartedWithoutPersistence() throws Exception {
    ScratchRedis redis = ScratchRedis.start();
    closing.add(redis);
    Seen seen = run("Redis", "redis:\n  url: " + redis.url(), null, redis::restart);
    assertThat(seen.oldEpochHolds())
        .as("the acquire script refuses holds on a server without the confirmed marker")
        .isZero();
  }

  @Test
  void zooKeeperBasePathDeleted() throws Exception {
    String basePath = "/fenced/incidents-it/" + UUID.randomUUID();
    run(
        "ZooKeeper",
        "zookeeper:\n  connectString: \"" + TestServers.zkConnect() + "\"\n  basePath: " + basePath,
        null,
        () -> {
          try (CuratorFramework zk =
              CuratorFrameworkFactory.newClient(
                  TestServers.zkConnect(), 5000, 5000, new RetryOneTime(200))) {
            zk.start();
            zk.blockUntilConnected(5, TimeUnit.SECONDS);
            zk.delete().deletingChildrenIfNeeded().forPath(basePath);
          }
        });
  }

  @Test
  void postgresFenceSequenceDropped() throws Exception {
    String database = "fenced_incidents_" + Long.toHexString(System.nanoTime());
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    closing.add(
        () -> {
          try (Connection c = TestServers.jdbc();
              Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
          }
        });
    Path pg = Files.createDirectories(dir.resolve("..secrets/pg"));
    Files.writeString(pg.resolve("username"), TestServers.pgUser());
    Files.writeString(pg.resolve("password"), TestServers.pgPassword());
    run(
        "Postgres",
        """
        postgres:
          host: %s
          port: %d
          database: %s
          mode: LockTable
          credentialsSecretRef: { name: pg }
        """
            .formatted(TestServers.pgHost(), TestServers.pgPort(), database),
        null,
        () -> {
          try (Connection c =
                  DriverManager.getConnection(
                      "jdbc:postgresql://"
                          + TestServers.pgHost()
                          + ":"
                          + TestServers.pgPort()
                          + "/"
                          + database,
                      TestServers.pgUser(),
                      TestServers.pgPassword());
              Statement s = c.createStatement()) {
            s.execute("DROP SEQUENCE fenced_fence_seq");
          }
        });
  }

  @Test
  void kubernetesLeaseDeleted() throws Exception {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    closing.add(server::destroy);
    KubernetesClient client = server.createClient();
    closing.add(client);
    Seen seen =
        run(
            "KubernetesLease",
            "kubernetesLease:\n  namespace: incidents",
            client,
            () ->
                client.leases().inNamespace("incidents").list().getItems().stream()
                    .filter(l -> !l.getMetadata().getName().equals("fenced-ledger"))
                    .forEach(l -> client.leases().inNamespace("incidents").resource(l).delete()));
    // 1 run in 12 granted such a hold before a service refused Leases a newer epoch took; 0 in 50
    // since (docs/incidents.md).
    assertThat(seen.oldEpochHolds())
        .as("a service the epoch rose past does not take a Lease the newer epoch re-created")
        .isZero();
  }

  /**
   * Acquires two names a few times, lets the incident happen, then acquires the first name until a
   * hold comes at a higher epoch (timed) and a few more; the second name is acquired once through a
   * service without the check, at the old epoch, to show what the incident did to its counter.
   */
  private Seen run(String type, String block, KubernetesClient kubernetes, Incident incident)
      throws Exception {
    // A generous maxWait: on a loaded machine the first acquire also provisions and checks.
    Files.writeString(
        dir.resolve("locks.yaml"),
        Policies.yaml("locks", type, block, "inc:*") + "  maxWait: 30s\n");
    DirectoryPolicySource source =
        new DirectoryPolicySource(dir, Duration.ofMillis(50), Duration.ofSeconds(10));
    closing.add(source);
    Path secrets = Files.createDirectories(dir.resolve("..secrets"));
    LockServiceFactory factory =
        new LockServiceFactory(
            vertx,
            new DirectorySecretResolver(secrets),
            kubernetes == null ? null : () -> kubernetes,
            null);
    PolicyLocks locks = new PolicyLocks(source, factory, CHECK);
    closing.add(locks);
    String name = "inc:" + UUID.randomUUID();
    String other = name + ":other";

    long before = 0;
    long beforeOther = 0;
    for (int i = 0; i < 3; i++) {
      before = EpochRise.cycle(locks, name);
      beforeOther = EpochRise.cycle(locks, other);
    }
    long epoch = FencingTokens.epoch(before);

    incident.happen();
    EpochRise rise = EpochRise.watch(locks, name, epoch, System.nanoTime(), LIMIT);

    // The counter of the other name as a service without the check meets it, at the old epoch.
    LockPolicy policy = source.policies().get(0);
    ManagedLockService unguarded = factory.create(policy);
    Long unguardedToken = null;
    String refused = null;
    try {
      LockService.await(unguarded.provision());
      LockHandle h = unguarded.acquireBlocking(other, Duration.ofSeconds(30));
      unguardedToken = h.fencingToken();
      LockService.await(h.release());
    } catch (BackendUnavailableException e) {
      refused = e.getMessage();
    } finally {
      unguarded.close();
    }

    System.out.printf(
        "incident %s: last token before %s; first hold at a higher epoch after %d ms (%d holds"
            + " granted at the old epoch meanwhile), tokens after %s; without the check the other"
            + " name got %s after %s%n",
        type,
        EpochRise.describe(before),
        rise.millisToNewEpoch(),
        rise.oldEpochHolds(),
        rise.described(),
        unguardedToken == null ? "refused (" + refused + ")" : EpochRise.describe(unguardedToken),
        EpochRise.describe(beforeOther));

    rise.assertRoseAbove(locks, name, before, epoch, 5);
    if (type.equals("KubernetesLease")) {
      // Lease generations: a Lease created again takes a generation above every one of the
      // epoch, and the ledger refuses a service the epoch rose past. Its leaseTransitions did
      // restart (KubernetesLeaseLockServiceIT shows the token the old count would have given).
      assertThat(unguardedToken == null || unguardedToken > beforeOther)
          .as("a Lease created again never repeats a token, checked or not: got %s", refused)
          .isTrue();
    } else {
      assertThat(unguardedToken)
          .as(
              "the incident restarted the counter: without the epoch rise a token repeats or goes"
                  + " back")
          .isLessThanOrEqualTo(beforeOther);
    }
    return new Seen(before, beforeOther, rise, unguardedToken);
  }
}
