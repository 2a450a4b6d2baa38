package dev.fenced.lock.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.testing.BlackHoleProxy;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A network partition between one holder and its lock backend, on every distributed backend's real
 * server. The isolated holder reaches the server through a {@link BlackHoleProxy}; the cut drops
 * every byte both ways and refuses nothing, so neither end hears of it except through its own
 * timeouts. The data the lock protects lives in fenced storage the holder still reaches (a
 * PostgreSQL row and a Redis hash, {@link FencedCounter}), as when the lock service and the
 * database are different servers.
 *
 * <p>Asserted, per backend: the isolated holder's {@code lost()} fires within the lease plus {@link
 * #DETECTION_SLACK} of the cut; another holder acquires with a larger token; the isolated holder's
 * late write, the one it began while it held, is refused by both stores; after the heal the
 * isolated service acquires again with a still larger token and every accepted increment is in the
 * counter. The same late write to an unfenced row goes through and loses an increment: the damage
 * the refusal prevents.
 */
class PartitionIT {

  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Duration RENEW = Duration.ofMillis(500);
  private static final Duration MAX_WAIT = Duration.ofSeconds(20);

  /**
   * The local deadline is the last renewal's send time plus the lease (less the drift margin), so
   * the loss is due at most one lease after the cut; this is the timer and scheduling slack on a
   * loaded two-core machine.
   */
  private static final Duration DETECTION_SLACK = Duration.ofSeconds(1);

  @TempDir static Path dir;
  private static Path secrets;
  private static Vertx vertx;
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    secrets = TestPolicies.writeSecrets(dir);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void closeAll() {
    for (int i = closing.size() - 1; i >= 0; i--) {
      try {
        closing.get(i).close();
      } catch (Exception e) {
        // a partitioned client may not close cleanly
      }
    }
    closing.clear();
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    closing.add(resource);
    return resource;
  }

  private ManagedLockService service(String backend, InetSocketAddress via) {
    return closeLater(
        TestPolicies.create(
            vertx, secrets, TestPolicies.yaml(backend, "partition:", LEASE, RENEW, MAX_WAIT, via)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.fenced.lock.contract.TestPolicies#backends")
  void anIsolatedHolderLosesItsHoldInTimeAndItsLateWriteIsRefused(String backend) throws Exception {
    InetSocketAddress server = TestPolicies.address(backend);
    BlackHoleProxy link =
        closeLater(BlackHoleProxy.start(0, server.getHostString(), server.getPort()));
    ManagedLockService isolated =
        service(backend, InetSocketAddress.createUnresolved("127.0.0.1", link.port()));
    ManagedLockService other = service(backend, null);
    String name = "partition:" + UUID.randomUUID();
    FencedCounter counter = closeLater(FencedCounter.reset(vertx, name));
    List<Long> tokens = new ArrayList<>();
    long accepted = 0;
    long plainWrites = 0;

    // The isolated holder increments once, then begins a second increment: it has read the value.
    LockHandle stale = isolated.acquireBlocking(name, MAX_WAIT);
    tokens.add(stale.fencingToken());
    accepted += increment(counter, stale);
    plainWrites += plainIncrement(counter);
    assertThat(counter.claim(Fence.of(stale)).both()).isTrue();
    long staleRead = counter.value();
    long stalePlainRead = counter.plainValue();

    link.cut();
    long cutAt = System.nanoTime();
    LockLoss loss =
        stale
            .lost()
            .toCompletableFuture()
            .get(LEASE.plus(DETECTION_SLACK).toMillis(), TimeUnit.MILLISECONDS);
    long lostAfter = millisSince(cutAt);
    assertThat(loss.fencingToken()).isEqualTo(stale.fencingToken());
    assertThat(stale.isHeld()).isFalse();

    LockHandle fresh = other.acquireBlocking(name, MAX_WAIT);
    long freshAfter = millisSince(cutAt);
    tokens.add(fresh.fencingToken());
    accepted += increment(counter, fresh);
    plainWrites += plainIncrement(counter);

    // The isolated holder finishes the increment it began: fenced storage refuses it everywhere.
    FencedCounter.Accepted late = counter.write(staleRead + 1, Fence.of(stale));
    assertThat(late.neither())
        .as("late write of the isolated holder, accepted by %s", late)
        .isTrue();
    counter.plainWrite(stalePlainRead + 1);
    plainWrites++;

    link.heal();
    long healedAt = System.nanoTime();
    assertThat(LockService.await(fresh.release())).isEqualTo(ReleaseResult.RELEASED);
    AtomicReference<LockHandle> again = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptionsInstanceOf(LockException.class)
        .until(
            () -> {
              again.set(isolated.acquireBlocking(name, Duration.ofSeconds(2)));
              return true;
            });
    long reacquiredAfterHeal = millisSince(healedAt);
    LockHandle back = again.get();
    tokens.add(back.fencingToken());
    accepted += increment(counter, back);
    assertThat(LockService.await(stale.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(back.isHeld()).isTrue();
    assertThat(LockService.await(back.release())).isEqualTo(ReleaseResult.RELEASED);

    System.out.printf(
        "partition %-18s lost() %5d ms after the cut (%s), next holder %5d ms after the cut,"
            + " isolated service holds again %5d ms after the heal; tokens %s; counter %d/%d"
            + " (accepted %d), unfenced row %d of %d writes%n",
        backend,
        lostAfter,
        loss.reason(),
        freshAfter,
        reacquiredAfterHeal,
        tokens,
        counter.value(),
        counter.redisValue(),
        accepted,
        counter.plainValue(),
        plainWrites);
    assertThat(tokens).isSorted().doesNotHaveDuplicates();
    assertThat(accepted).isEqualTo(3);
    assertThat(counter.value()).isEqualTo(accepted);
    assertThat(counter.redisValue()).isEqualTo(accepted);
    // Without the fence the late write lands on top of the next holder's increment.
    assertThat(counter.plainValue()).isEqualTo(2).isLessThan(plainWrites);
  }

  /** One fenced read-then-write increment under {@code hold}; 1 when both stores took it. */
  private static long increment(FencedCounter counter, LockHandle hold) throws Exception {
    Fence fence = Fence.of(hold);
    assertThat(counter.claim(fence).both()).as("claim of %s", hold).isTrue();
    FencedCounter.Accepted written = counter.write(counter.value() + 1, fence);
    assertThat(written.both()).as("write of %s", hold).isTrue();
    return 1;
  }

  private static long plainIncrement(FencedCounter counter) throws Exception {
    counter.plainWrite(counter.plainValue() + 1);
    return 1;
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
