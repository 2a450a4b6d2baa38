package dev.fenced.lock.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.fencing.FencedUpdate;
import dev.fenced.lock.policy.DirectoryPolicySource;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.testing.BlackHoleProxy;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failure the Redis lock is known for, reproduced on a real master set under Sentinel ({@code
 * scripts/backends.sh restart sentinel}: a primary, an asynchronous replica, one Sentinel) with a
 * real cut of the network: replication and the Sentinel reach the primary through a {@link
 * BlackHoleProxy} that drops bytes without resetting anything, while holder A reaches it directly.
 *
 * <ul>
 *   <li><b>Split brain</b>: holder A's last increment reached the replica; then replication and the
 *       Sentinel lose the primary, the Sentinel promotes the replica, and A, whose own connection
 *       to the old primary still works, keeps renewing there.
 *   <li><b>Lost increment</b>: the primary is cut off, A acquires (its {@code INCR} stays on the
 *       primary), the primary dies, the replica is promoted without it.
 * </ul>
 *
 * In both, service B (through the Sentinel) then acquires on the new primary while A still holds:
 * two holders at once. A read the counter before B, B writes, then A writes late. The same run
 * writes two rows: one with the fenced update (token and holder), one with a plain update. The
 * fenced row refuses A's write and keeps every acknowledged increment; the plain row takes it and
 * loses B's. B's service saw the new incarnation and raised the epoch before it granted the hold,
 * so no token repeats, and the lock family goes on at the higher epoch.
 */
class SentinelFailoverIT {

  private static final String TABLE = "sentinel_failover_counter";
  private static final FencedUpdate FENCED =
      FencedUpdate.table(TABLE).set("n").where("name").fence("fence", "fence_holder");

  @TempDir Path dir;
  private Vertx vertx;
  private final List<AutoCloseable> closing = new ArrayList<>();

  /** How the replica and the Sentinel reach the primary; A connects to it directly. */
  private BlackHoleProxy primaryLink;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (name text PRIMARY KEY, n bigint NOT NULL, fence bigint NOT NULL DEFAULT 0,"
              + " fence_holder text)");
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    closing.clear();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopTheSet() {
    TestServers.backends("down", "sentinel");
  }

  @Test
  void splitBrainTheReplicaPromotedWhileTheOldPrimaryStillAnswersAHolder() throws Exception {
    Setup set = setUp();
    String name = "failover:split-" + UUID.randomUUID();
    List<Long> tokens = new ArrayList<>();
    tokens.add(cycle(set.a, name));
    tokens.add(cycle(set.b, name));

    LockHandle a = LockService.await(set.a.acquire(name));
    tokens.add(a.fencingToken());
    long v0 = read("fenced:" + name);
    awaitReplicated(set);
    assertThat(LockService.await(set.a.resolve(name).orElseThrow().admin().probe()).detail())
        .as("the probe names the replica a failover could promote")
        .contains("1 asynchronous replica(s)");
    System.out.printf(
        "split brain: A holds %s on the old primary, its increment replicated; cutting the"
            + " replica and the Sentinel off the primary (A's own connection stays)%n",
        describe(a.fencingToken()));
    primaryLink.cut();
    long cutAt = System.nanoTime();
    awaitPromotion(set);
    System.out.printf(
        "split brain: %d ms after the cut the Sentinel had promoted the replica; the old primary"
            + " still answers A%n",
        millisSince(cutAt));

    LockHandle b = acquireRetrying(set.b, name, "split brain", cutAt);
    tokens.add(b.fencingToken());
    boolean aStillHolds = a.isHeld() && !a.lost().toCompletableFuture().isDone();
    Outcome outcome = writeBothWays(name, v0, b, a);
    report("split brain", a, b, aStillHolds, outcome);

    // Heal: the Sentinel turns the old primary into a replica; A learns it lost its hold.
    primaryLink.heal();
    await().atMost(Duration.ofSeconds(30)).until(() -> !a.isHeld());
    LockService.await(b.release());
    tokens.add(cycle(set.b, name));
    System.out.printf(
        "split brain: after the heal A's hold is gone (%s); tokens of the name in order %s%n",
        a.lost().toCompletableFuture().getNow(null),
        tokens.stream().map(SentinelFailoverIT::describe).toList());

    assertOutcome(a, b, aStillHolds, outcome, tokens);
  }

  @Test
  void lostIncrementThePrimaryDiesBeforeItsLastIncrReachedTheReplica() throws Exception {
    Setup set = setUp();
    String name = "failover:lost-" + UUID.randomUUID();
    List<Long> tokens = new ArrayList<>();
    tokens.add(cycle(set.a, name));
    tokens.add(cycle(set.b, name));
    awaitReplicated(set);

    primaryLink.cut();
    LockHandle a = LockService.await(set.a.acquire(name));
    tokens.add(a.fencingToken());
    long v0 = read("fenced:" + name);
    String fenceKey = "fenced:{" + name + "}:fence";
    String onPrimary = cli(set.primaryPort, "GET", fenceKey);
    String onReplica = cli(set.replicaPort, "GET", fenceKey);
    System.out.printf(
        "lost increment: the replica and the Sentinel cut off the primary; A holds %s; fence"
            + " counter on the primary %s, on the replica %s; killing the primary%n",
        describe(a.fencingToken()), onPrimary, onReplica);
    assertThat(Long.parseLong(onReplica))
        .as("the replica never got A's increment")
        .isEqualTo(Long.parseLong(onPrimary) - 1);
    killPrimary();
    long killedAt = System.nanoTime();
    awaitPromotion(set);
    String promoted = cli(set.replicaPort, "GET", fenceKey);
    System.out.printf(
        "lost increment: %d ms after the kill the Sentinel had promoted the replica; its fence"
            + " counter is %s, so its next INCR hands out A's counter %d again%n",
        millisSince(killedAt), promoted, FencingTokens.counter(a.fencingToken()));
    assertThat(Long.parseLong(promoted) + 1)
        .as("the lost INCR: the new primary's next counter is the one A holds")
        .isEqualTo(FencingTokens.counter(a.fencingToken()));

    LockHandle b = acquireRetrying(set.b, name, "lost increment", killedAt);
    tokens.add(b.fencingToken());
    boolean aStillHolds = a.isHeld() && !a.lost().toCompletableFuture().isDone();
    Outcome outcome = writeBothWays(name, v0, b, a);
    report("lost increment", a, b, aStillHolds, outcome);

    LockService.await(b.release());
    tokens.add(cycle(set.b, name));
    System.out.printf(
        "lost increment: tokens of the name in order %s%n",
        tokens.stream().map(SentinelFailoverIT::describe).toList());
    assertOutcome(a, b, aStillHolds, outcome, tokens);
  }

  /** What the two late writers did to the fenced row and to the plain row. */
  record Outcome(
      long before,
      boolean fencedB,
      boolean fencedA,
      long fencedFinal,
      boolean plainB,
      boolean plainA,
      long plainFinal) {

    int acknowledgedFenced() {
      return (fencedB ? 1 : 0) + (fencedA ? 1 : 0);
    }

    int acknowledgedPlain() {
      return (plainB ? 1 : 0) + (plainA ? 1 : 0);
    }
  }

  /**
   * Both holders increment both rows from the value they read ({@code v0}, read by A before B
   * acquired): B first, then A, late. The fenced row is written with each hold's {@link Fence}, the
   * plain row without any check, as code without fencing would.
   */
  private Outcome writeBothWays(String name, long v0, LockHandle b, LockHandle a)
      throws SQLException {
    long readByB = read("fenced:" + name);
    long plainReadByB = read("plain:" + name);
    boolean fencedB = fenced("fenced:" + name, readByB + 1, Fence.of(b));
    boolean plainB = plain("plain:" + name, plainReadByB + 1);
    boolean fencedA = fenced("fenced:" + name, v0 + 1, Fence.of(a));
    boolean plainA = plain("plain:" + name, v0 + 1);
    return new Outcome(
        v0, fencedB, fencedA, read("fenced:" + name), plainB, plainA, read("plain:" + name));
  }

  private static void report(
      String shape, LockHandle a, LockHandle b, boolean aStillHolds, Outcome o) {
    System.out.printf(
        "%s: B holds %s on the new primary while A still believes it holds %s (isHeld=%s, lost"
            + " not yet): two holders at once%n",
        shape, describe(b.fencingToken()), describe(a.fencingToken()), aStillHolds);
    System.out.printf(
        "%s, fenced row: B's write %d->%d %s, A's late write %d->%d %s; final %d = %d + %d"
            + " acknowledged increment(s)%n",
        shape,
        o.before(),
        o.before() + 1,
        o.fencedB() ? "accepted" : "REFUSED",
        o.before(),
        o.before() + 1,
        o.fencedA() ? "accepted" : "REFUSED",
        o.fencedFinal(),
        o.before(),
        o.acknowledgedFenced());
    System.out.printf(
        "%s, plain row (fencing off): B's write %s, A's late write %s; final %d after %d"
            + " acknowledged increments: %d lost update(s)%n",
        shape,
        o.plainB() ? "accepted" : "refused",
        o.plainA() ? "accepted" : "refused",
        o.plainFinal(),
        o.acknowledgedPlain(),
        o.before() + o.acknowledgedPlain() - o.plainFinal());
  }

  private static void assertOutcome(
      LockHandle a, LockHandle b, boolean aStillHolds, Outcome o, List<Long> tokens) {
    assertThat(aStillHolds).as("A still believed it held when B got the lock").isTrue();
    assertThat(o.fencedB()).as("the current holder's fenced write").isTrue();
    assertThat(o.fencedA()).as("the stale holder's fenced write").isFalse();
    assertThat(o.fencedFinal())
        .as("fenced: every acknowledged increment counted")
        .isEqualTo(o.before() + o.acknowledgedFenced());
    assertThat(o.plainA()).as("without fencing the stale write goes through").isTrue();
    assertThat(o.plainFinal())
        .as("without fencing an acknowledged increment is lost")
        .isLessThan(o.before() + o.acknowledgedPlain());
    assertThat(tokens).as("no token repeats or goes back").isSorted().doesNotHaveDuplicates();
    assertThat(FencingTokens.epoch(b.fencingToken()))
        .as("B's service raised the epoch before its first hold on the new primary")
        .isGreaterThan(FencingTokens.epoch(a.fencingToken()));
    assertThat(FencingTokens.epoch(tokens.get(tokens.size() - 1)))
        .as("the lock family carries on at the higher epoch")
        .isEqualTo(FencingTokens.epoch(b.fencingToken()));
  }

  // ---- the master set ----

  /** A and B, each a service following its own policy file, on one fresh master set. */
  record Setup(PolicyLocks a, PolicyLocks b, int primaryPort, int replicaPort, int sentinelPort) {}

  private Setup setUp() throws Exception {
    TestServers.backends("restart", "sentinel");
    int primary = Integer.parseInt(env("FENCED_SENTINEL_PRIMARY_PORT", "16380"));
    int replica = Integer.parseInt(env("FENCED_SENTINEL_REPLICA_PORT", "16381"));
    String node = env("FENCED_SENTINEL_NODES", "127.0.0.1:16382").split(",")[0];
    int sentinel = Integer.parseInt(node.substring(node.lastIndexOf(':') + 1));
    String master = env("FENCED_SENTINEL_MASTER", "fenced");

    // Replication and the Sentinel reach the primary through a proxy that can be cut (the Sentinel
    // points the replica at the address it monitors, so both go the same way); A does not.
    primaryLink = BlackHoleProxy.start(0, "127.0.0.1", primary);
    closing.add(primaryLink);
    String link = Integer.toString(primaryLink.port());
    cli(replica, "REPLICAOF", "127.0.0.1", link);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                cli(replica, "INFO", "replication").contains("master_port:" + link)
                    && cli(replica, "INFO", "replication").contains("master_link_status:up"));
    cli(sentinel, "SENTINEL", "REMOVE", master);
    cli(sentinel, "SENTINEL", "MONITOR", master, "127.0.0.1", link, "1");
    cli(sentinel, "SENTINEL", "SET", master, "down-after-milliseconds", "1000");
    cli(sentinel, "SENTINEL", "SET", master, "failover-timeout", "5000");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                cli(sentinel, "SENTINEL", "REPLICAS", master).contains(Integer.toString(replica)));

    // A lease long enough that A still believes it holds when B gets the lock, even when the
    // machine is slow; B waits for A's replicated lock key to expire in the split brain.
    String timing = "  leaseDuration: 15s\n  renewInterval: 1s\n  maxWait: 20s\n";
    PolicyLocks a = follow("a", "redis:\n  url: redis://127.0.0.1:" + primary, timing);
    PolicyLocks b =
        follow(
            "b",
            "redis:\n  sentinel:\n    masterName: " + master + "\n    nodes: [\"" + node + "\"]",
            timing);
    return new Setup(a, b, primary, replica, sentinel);
  }

  /** A service: its own policy folder, the same policy name, the same lock names. */
  private PolicyLocks follow(String who, String redisBlock, String timing) throws IOException {
    Path folder = Files.createDirectories(dir.resolve(who));
    Files.writeString(
        folder.resolve("failover.yaml"),
        """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata: { name: failover, namespace: voting }
        spec:
          lockNames: ["failover:*"]
          backend:
            type: Redis
        %s
        %s"""
            .formatted(redisBlock.indent(4).stripTrailing(), timing));
    DirectoryPolicySource source =
        new DirectoryPolicySource(folder, Duration.ofMillis(50), Duration.ofSeconds(10));
    closing.add(source);
    PolicyLocks locks =
        new PolicyLocks(
            source,
            new LockServiceFactory(
                vertx,
                new DirectorySecretResolver(Files.createDirectories(folder.resolve("..secrets"))),
                null,
                null),
            Duration.ofMillis(500));
    closing.add(locks);
    return locks;
  }

  private void awaitReplicated(Setup set) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                field(cli(set.primaryPort, "INFO", "replication"), "master_repl_offset")
                    .equals(
                        field(cli(set.replicaPort, "INFO", "replication"), "slave_repl_offset")));
  }

  private void awaitPromotion(Setup set) {
    String master = env("FENCED_SENTINEL_MASTER", "fenced");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                cli(set.sentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)
                        .endsWith(Integer.toString(set.replicaPort))
                    && cli(set.replicaPort, "ROLE").startsWith("master"));
  }

  private static void killPrimary() throws Exception {
    Path pidFile = TestServers.home().resolve("sentinel/primary.pid");
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  /**
   * Acquires as a service would, trying again after an acquire failed for want of the backend (what
   * a client does with a 503): during a failover some do.
   */
  private static LockHandle acquireRetrying(
      PolicyLocks locks, String name, String shape, long since) {
    int failed = 0;
    String lastFailure = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        LockHandle h;
        try {
          h = locks.acquire(name).toCompletableFuture().get(45, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException | InterruptedException e) {
          throw new AssertionError(
              shape
                  + ": an acquire did not end within 45 s; policies in force: "
                  + locks.active().stream()
                      .map(
                          a ->
                              a.ref()
                                  + " epoch "
                                  + a.settings().epoch()
                                  + " held back: "
                                  + a.heldBack())
                      .toList()
                  + ", problems "
                  + locks.problems(),
              e);
        }
        System.out.printf(
            "%s: B acquired %d ms after the incident, after %d failed attempt(s)%s%n",
            shape,
            millisSince(since),
            failed,
            lastFailure == null ? "" : " (last: " + lastFailure + ")");
        return h;
      } catch (dev.fenced.lock.BackendUnavailableException e) {
        failed++;
        lastFailure = e.getMessage();
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static long cycle(PolicyLocks locks, String name) {
    LockHandle h = LockService.await(locks.acquire(name));
    long token = h.fencingToken();
    LockService.await(h.release());
    return token;
  }

  // ---- the counter rows ----

  private static long read(String row) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + TABLE
                    + " (name, n) VALUES (?, 0) ON CONFLICT (name) DO UPDATE SET n = "
                    + TABLE
                    + ".n RETURNING n")) {
      s.setString(1, row);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static boolean fenced(String row, long value, Fence fence) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement(FENCED.jdbcSql())) {
      List<Object> params = FENCED.jdbcParams(List.of(value), List.of(row), fence);
      for (int i = 0; i < params.size(); i++) {
        s.setObject(i + 1, params.get(i));
      }
      return s.executeUpdate() == 1;
    }
  }

  private static boolean plain(String row, long value) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement("UPDATE " + TABLE + " SET n = ? WHERE name = ?")) {
      s.setLong(1, value);
      s.setString(2, row);
      return s.executeUpdate() == 1;
    }
  }

  // ---- helpers ----

  /** {@code redis-cli -p port args...}: its output, trimmed; a failure is an empty answer. */
  static String cli(int port, String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out.strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run redis-cli", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static String field(String info, String name) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).strip();
      }
    }
    return "?";
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
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
