package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.contract.TestServers;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locks follow their policy files: resolution, a refused move, a drained move to real Redis. */
class PolicyLocksIT {

  @TempDir Path dir;
  private Vertx vertx;
  private DirectoryPolicySource source;
  private PolicyLocks locks;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Files.writeString(
        dir.resolve("counters.yaml"), policy("counters", "count:*", inProcess(), 0, "10s"));
    Files.writeString(dir.resolve("race.yaml"), policy("race", "race:*", none(), 0, "10s"));
    source = new DirectoryPolicySource(dir, Duration.ofMillis(50), Duration.ofSeconds(10));
    locks = follow();
  }

  /** A service following the policy folder, as vote-api does. */
  private PolicyLocks follow() throws IOException {
    Path secrets = Files.createDirectories(dir.resolve("..secrets"));
    return new PolicyLocks(
        source, new LockServiceFactory(vertx, new DirectorySecretResolver(secrets), null, null));
  }

  @AfterEach
  void stop() {
    locks.close();
    source.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void eachNameIsLockedThroughItsOwnPolicysBackend() {
    assertThat(locks.resolve("count:a").orElseThrow().service().backend()).isEqualTo("InProcess");
    assertThat(locks.resolve("race:a").orElseThrow().service().backend()).isEqualTo("None");
    LockHandle h = LockService.await(locks.acquire("count:a"));
    assertThat(h.isHeld()).isTrue();
    LockService.await(h.release());

    assertThatThrownBy(() -> LockService.await(locks.acquire("elsewhere:a")))
        .isInstanceOf(InvalidLockPolicyException.class)
        .hasMessageContaining("no Ready LockPolicy governs lock name 'elsewhere:a'");
  }

  @Test
  void aMoveWithoutAHigherEpochIsRefusedAndTheOldBackendStays() throws Exception {
    Files.writeString(
        dir.resolve("counters.yaml"), policy("counters", "count:*", redis(), 0, "10s"));
    source.rescan();

    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(locks.problems())
                    .anySatisfy(
                        p -> {
                          assertThat(p.field()).isEqualTo("status.epoch");
                          assertThat(p.message())
                              .contains("fencing epoch above 0")
                              .contains(DirectoryPolicySource.EPOCH_ANNOTATION);
                        }));
    assertThat(locks.resolve("count:a").orElseThrow().service().backend()).isEqualTo("InProcess");
  }

  @Test
  void aMoveToRedisWaitsForTheOldHoldsAndItsTokensAreLarger() throws Exception {
    String name = "count:" + UUID.randomUUID();
    LockHandle old = LockService.await(locks.acquire(name));

    Files.writeString(
        dir.resolve("counters.yaml"), policy("counters", "count:*", redis(), 1, "10s"));
    source.rescan();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> locks.resolve(name).orElseThrow().service().backend().equals("Redis"));

    CompletableFuture<LockHandle> next =
        locks.acquire(name, Duration.ofSeconds(10)).toCompletableFuture();
    Thread.sleep(500);
    assertThat(next).as("the new backend waits until the old holds drain").isNotDone();
    assertThat(old.isHeld()).isTrue();

    LockService.await(old.release());
    LockHandle fresh = next.get(10, TimeUnit.SECONDS);
    // At least the file's epoch; above it when the shared Redis's ledger records higher epochs of
    // other policies (a new policy starts above them).
    assertThat(FencingTokens.epoch(fresh.fencingToken())).isGreaterThanOrEqualTo(1);
    assertThat(fresh.fencingToken()).isGreaterThan(old.fencingToken());
    LockService.await(fresh.release());
  }

  @Test
  void anAcquireThroughAResolvedPolicyNeverLandsOnAnotherBackend() throws Exception {
    String name = "count:" + UUID.randomUUID();
    PolicyLocks.ActivePolicy before = locks.resolve(name).orElseThrow();
    LockHandle first = LockService.await(before.acquire(name, null));
    assertThat(FencingTokens.epoch(first.fencingToken())).isZero();
    LockService.await(first.release());

    Files.writeString(
        dir.resolve("counters.yaml"), policy("counters", "count:*", redis(), 1, "10s"));
    source.rescan();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> locks.resolve(name).orElseThrow().service().backend().equals("Redis"));

    // What was resolved before the move is InProcess, and stays so: its closed service refuses,
    // rather than the acquire quietly going to Redis under InProcess's name.
    assertThat(before.service().backend()).isEqualTo("InProcess");
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> LockService.await(before.acquire(name, null)))
                    .isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("InProcess"));
    PolicyLocks.ActivePolicy after = locks.resolve(name).orElseThrow();
    LockHandle moved = LockService.await(after.acquire(name, null));
    assertThat(after.service().backend()).isEqualTo("Redis");
    // At least the file's epoch; above it when the shared Redis's ledger records this policy in an
    // earlier incarnation of the server (a restart since an earlier run raises it).
    assertThat(FencingTokens.epoch(moved.fencingToken())).isGreaterThanOrEqualTo(1);
    assertThat(moved.fencingToken()).isGreaterThan(first.fencingToken());
    LockService.await(moved.release());
  }

  @Test
  void aTimingChangeOnTheSameBackendKeepsExcludingOldHolders() throws Exception {
    String name = "count:" + UUID.randomUUID();
    LockHandle old = LockService.await(locks.acquire(name));

    Files.writeString(
        dir.resolve("counters.yaml"), policy("counters", "count:*", inProcess(), 0, "5s"));
    source.rescan();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                locks
                    .resolve(name)
                    .orElseThrow()
                    .settings()
                    .leaseDuration()
                    .equals(Duration.ofSeconds(5)));

    assertThatThrownBy(() -> LockService.await(locks.acquire(name, Duration.ofMillis(300))))
        .isInstanceOf(LockTimeoutException.class);
    LockService.await(old.release());
    LockHandle fresh = LockService.await(locks.acquire(name));
    assertThat(fresh.fencingToken()).isGreaterThan(old.fencingToken());
    LockService.await(fresh.release());
  }

  /**
   * A policy file whose epoch is below what its backend's ledger records for it (the file was
   * rolled back, or written by hand after the policy ran elsewhere): the service adopts the
   * ledger's epoch, builds itself again at it, and is ready at once: it holds, and its backend
   * answers.
   */
  @Test
  void aFileBehindItsLedgerRisesToTheLedgerEpochAndStaysReady() throws Exception {
    String prefix = "/fenced-behind-" + UUID.randomUUID();
    String name = "ledger:" + UUID.randomUUID();
    Path file = dir.resolve("ledger.yaml");
    Files.writeString(file, policy("behind", "ledger:*", etcd(prefix), 9, "5s"));
    source.rescan();
    await().atMost(Duration.ofSeconds(10)).until(() -> locks.resolve(name).isPresent());
    long first = tokenOfOneHold(name);
    assertThat(FencingTokens.epoch(first)).isEqualTo(9);

    // The same policy, its file now at a lower epoch, followed by a service that starts afresh.
    restartWith(file, policy("behind", "ledger:*", etcd(prefix), 8, "5s"));
    long next = tokenOfOneHold(name);
    assertThat(FencingTokens.epoch(next)).as("the ledger's epoch, not the file's").isEqualTo(9);
    assertThat(next).isGreaterThan(first);

    PolicyLocks.ActivePolicy active = locks.resolve(name).orElseThrow();
    assertThat(active.settings().epoch()).isEqualTo(9);
    BackendProbe probe = active.admin().probe().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(probe.reachable()).as("the probe of the service in force: %s", probe).isTrue();
  }

  /**
   * A policy moves to a backend whose ledger records a higher epoch for it than the move's (the
   * policy ran there before, and its file was rolled back since): the new backend's tokens start at
   * its ledger's epoch, above every token it issued before, not at the file's.
   */
  @Test
  void aMoveToABackendWhoseLedgerIsAheadStartsAtTheLedgersEpoch() throws Exception {
    String prefix = "/fenced-move-" + UUID.randomUUID();
    String name = "move:" + UUID.randomUUID();
    Path file = dir.resolve("move.yaml");
    Files.writeString(file, policy("mover", "move:*", etcd(prefix), 9, "5s"));
    source.rescan();
    await().atMost(Duration.ofSeconds(10)).until(() -> locks.resolve(name).isPresent());
    long onEtcd = tokenOfOneHold(name);
    assertThat(FencingTokens.epoch(onEtcd)).isEqualTo(9);

    // Rolled back to an in-process lock at a lower epoch, by a service that starts afresh.
    restartWith(file, policy("mover", "move:*", inProcess(), 3, "5s"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                locks
                    .resolve(name)
                    .map(p -> p.service().backend().equals("InProcess"))
                    .orElse(false));
    assertThat(FencingTokens.epoch(tokenOfOneHold(name))).isEqualTo(3);

    // Back to etcd with a raised epoch, 4: a valid move, but below what etcd's ledger records.
    Files.writeString(file, policy("mover", "move:*", etcd(prefix), 4, "5s"));
    source.rescan();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> locks.resolve(name).orElseThrow().service().backend().equals("Etcd"));
    long back = tokenOfOneHold(name);
    assertThat(FencingTokens.epoch(back))
        .as("the epoch etcd's ledger records, not the file's 4")
        .isGreaterThanOrEqualTo(9);
    assertThat(back).isGreaterThan(onEtcd);
  }

  /** Takes {@code name} once, within the policy's maxWait, and releases it; its fencing token. */
  private long tokenOfOneHold(String name) throws Exception {
    LockHandle hold = LockService.await(locks.acquire(name));
    LockService.await(hold.release());
    return hold.fencingToken();
  }

  /**
   * Stops following, writes {@code file} anew, and follows again as a service that starts afresh.
   */
  private void restartWith(Path file, String policy) throws Exception {
    locks.close();
    Files.writeString(file, policy);
    source.rescan();
    locks = follow();
  }

  private static String etcd(String prefix) {
    return "    type: Etcd\n    etcd:\n      endpoints: [\""
        + TestServers.etcdEndpoints().split(",")[0]
        + "\"]\n      keyPrefix: "
        + prefix
        + "\n";
  }

  private static String inProcess() {
    return "    type: InProcess\n";
  }

  private static String none() {
    return "    type: None\n";
  }

  private static String redis() {
    return "    type: Redis\n    redis:\n      url: " + TestServers.redisUrl() + "\n";
  }

  private static String policy(
      String name, String pattern, String backend, long epoch, String lease) {
    return "apiVersion: locks.fenced.dev/v1alpha1\n"
        + "kind: LockPolicy\n"
        + "metadata:\n"
        + "  name: "
        + name
        + "\n  namespace: test\n"
        + "  annotations: { \"locks.fenced.dev/epoch\": \""
        + epoch
        + "\" }\n"
        + "spec:\n"
        + "  lockNames: [\""
        + pattern
        + "\"]\n"
        + "  backend:\n"
        + backend
        + "  leaseDuration: "
        + lease
        + "\n  renewInterval: 1s\n"
        + "  maxWait: 10s\n"
        + "  fencing: "
        + (backend.contains("None") ? "Optional" : "Required")
        + "\n";
  }
}
