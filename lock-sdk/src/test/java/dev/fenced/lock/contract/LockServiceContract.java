package dev.fenced.lock.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The lock contract of design §3, run against every backend on its real server. A backend's test
 * extends this class and says how to build a service on that server; everything else is shared.
 */
public abstract class LockServiceContract {

  /** Short leases keep the crash and pause cases quick. */
  protected static final Duration LEASE = Duration.ofSeconds(2);

  protected static final Duration RENEW = Duration.ofMillis(500);
  protected static final Duration MAX_WAIT = Duration.ofSeconds(30);

  private final List<LockService> opened = new ArrayList<>();

  /**
   * A new, independent client of the backend (its own connections), as another process would have.
   */
  protected abstract AbstractLockService createService(LockSettings settings, LeaseKeeper keeper);

  /** Stops the backend's server; the test starts it again with {@link #startBackend()}. */
  protected void stopBackend() {
    Assumptions.abort("this backend has no server to restart");
  }

  protected void startBackend() {}

  /** Workers and increments for the mutual-exclusion run. */
  protected int workers() {
    return 8;
  }

  protected int incrementsPerWorker() {
    return 500;
  }

  protected LockSettings settings() {
    return new LockSettings(LEASE, RENEW, MAX_WAIT, LockSettings.Fencing.REQUIRED, 0);
  }

  protected final AbstractLockService service() {
    return service(new LeaseKeeper());
  }

  protected final AbstractLockService service(LeaseKeeper keeper) {
    AbstractLockService service = createService(settings(), keeper);
    service.provision().toCompletableFuture().join();
    opened.add(service);
    return service;
  }

  protected static String uniqueName(String prefix) {
    return prefix + ":" + UUID.randomUUID();
  }

  @AfterEach
  void closeServices() {
    for (LockService s : opened) {
      try {
        s.close();
      } catch (RuntimeException ignored) {
        // a crashed or stopped backend may refuse a clean close
      }
    }
    opened.clear();
  }

  @Test
  void mutualExclusionKeepsAReadThenWriteCounterExact() throws Exception {
    List<AbstractLockService> services = List.of(service(), service());
    String name = uniqueName("contract:counter");

    long total = CounterWorkload.run(services, name, workers(), incrementsPerWorker(), MAX_WAIT);

    assertThat(total).isEqualTo((long) workers() * incrementsPerWorker());
  }

  /**
   * Combining on this backend: callers of two services (two processes) share holds through a {@link
   * dev.fenced.lock.support.Combiner}; each hold adds its batch to the counter by one
   * read-then-write. Exact, and with fewer holds than callers served ({@code NoLockServiceTest}
   * runs the same without a lock and loses updates).
   */
  @Test
  void combinedHoldsServeManyCallersAndKeepTheCounterExact() throws Exception {
    List<AbstractLockService> services = List.of(service(), service());
    String name = uniqueName("contract:combined");

    CombinedCounterWorkload.Result result =
        CombinedCounterWorkload.run(services, name, 16, 25, 32, MAX_WAIT);

    assertThat(result.value()).isEqualTo(result.requests());
    assertThat(result.holds()).as("holds for %d callers", result.requests()).isLessThan(400);
  }

  @Test
  void tokensRiseAcrossHoldersServicesAndClientRestarts() {
    AbstractLockService a = service();
    AbstractLockService b = service();
    String name = uniqueName("contract:tokens");
    long last = Long.MIN_VALUE;
    for (int i = 0; i < 10; i++) {
      LockHandle h = (i % 2 == 0 ? a : b).acquireBlocking(name, MAX_WAIT);
      assertThat(h.fencingToken()).isGreaterThan(last);
      last = h.fencingToken();
      assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    }
    a.close();
    b.close();

    AbstractLockService restarted = service();
    LockHandle h = restarted.acquireBlocking(name, MAX_WAIT);
    assertThat(h.fencingToken()).isGreaterThan(last);
    LockService.await(h.release());
  }

  @Test
  void aCrashedHolderIsReleasedWithinItsLease() {
    AbstractLockService crashing = service();
    AbstractLockService next = service();
    String name = uniqueName("contract:crash");
    LockHandle held = crashing.acquireBlocking(name, MAX_WAIT);

    long start = System.nanoTime();
    crashing.close(); // no release: connections and renewals just stop
    LockHandle after = next.acquireBlocking(name, MAX_WAIT);
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(after.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(took).isLessThan(LEASE.plus(crashSlack()));
    LockService.await(after.release());
  }

  /** How far past the lease a crashed hold may linger (server-side expiry granularity). */
  protected Duration crashSlack() {
    return Duration.ofSeconds(2);
  }

  @Test
  void aPausedHolderLosesItsHoldAndItsLateFencedWriteIsRejected() throws Exception {
    LeaseKeeper pausedKeeper = new LeaseKeeper();
    AbstractLockService paused = service(pausedKeeper);
    AbstractLockService next = service();
    String name = uniqueName("contract:pause");
    PgCounter counter = new PgCounter(name);

    LockHandle stale = paused.acquireBlocking(name, MAX_WAIT);
    assertThat(counter.fencedSet(1, stale.fencingToken())).isTrue();

    simulatePause(paused, stale);
    LockHandle fresh = next.acquireBlocking(name, MAX_WAIT);
    assertThat(fresh.fencingToken()).isGreaterThan(stale.fencingToken());
    assertThat(counter.fencedSet(2, fresh.fencingToken())).isTrue();

    LockLoss loss =
        stale.lost().toCompletableFuture().get(LEASE.toMillis() * 3, TimeUnit.MILLISECONDS);
    assertThat(loss.fencingToken()).isEqualTo(stale.fencingToken());
    assertThat(stale.isHeld()).isFalse();

    // The paused holder wakes up and writes with its old token: storage refuses it.
    assertThat(counter.fencedSet(99, stale.fencingToken())).isFalse();
    assertThat(counter.value()).isEqualTo(2);
    assertThat(fresh.isHeld()).isTrue();
    LockService.await(fresh.release());
    pausedKeeper.resume();
  }

  /** Makes {@code holder} stop renewing, as a stop-the-world pause would. */
  protected void simulatePause(AbstractLockService service, LockHandle holder) {
    service.keeper().pause();
  }

  @Test
  void aStaleHandlesReleaseTouchesNothing() throws Exception {
    LeaseKeeper pausedKeeper = new LeaseKeeper();
    AbstractLockService paused = service(pausedKeeper);
    AbstractLockService next = service();
    String name = uniqueName("contract:stale-release");

    LockHandle stale = paused.acquireBlocking(name, MAX_WAIT);
    simulatePause(paused, stale);
    LockHandle fresh = next.acquireBlocking(name, MAX_WAIT);
    stale.lost().toCompletableFuture().get(LEASE.toMillis() * 3, TimeUnit.MILLISECONDS);

    assertThat(LockService.await(stale.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThatThrownBy(() -> next.acquireBlocking(name, Duration.ofMillis(200)))
        .isInstanceOf(LockTimeoutException.class);
    assertThat(fresh.isHeld()).isTrue();
    assertThat(LockService.await(fresh.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(LockService.await(fresh.release())).isEqualTo(ReleaseResult.NOT_HELD);
    pausedKeeper.resume();
  }

  @Test
  void renewalKeepsTheHoldPastItsLease() throws Exception {
    AbstractLockService holder = service();
    AbstractLockService other = service();
    String name = uniqueName("contract:renew");
    LockHandle h = holder.acquireBlocking(name, MAX_WAIT);

    Thread.sleep(LEASE.multipliedBy(2).toMillis());

    assertThat(h.isHeld()).isTrue();
    assertThat(h.lost().toCompletableFuture().isDone()).isFalse();
    assertThatThrownBy(() -> other.acquireBlocking(name, Duration.ofMillis(300)))
        .isInstanceOf(LockTimeoutException.class);
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void theWaitTimeoutIsHonoured() {
    AbstractLockService holder = service();
    AbstractLockService waiter = service();
    String name = uniqueName("contract:timeout");
    LockHandle h = holder.acquireBlocking(name, MAX_WAIT);

    long start = System.nanoTime();
    assertThatThrownBy(() -> waiter.acquireBlocking(name, Duration.ofMillis(400)))
        .isInstanceOf(LockTimeoutException.class)
        .hasMessageContaining(name);
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(waited).isBetween(Duration.ofMillis(390), Duration.ofMillis(400).plusSeconds(2));
    LockService.await(h.release());
  }

  @Test
  void aWaiterGetsTheLockSoonAfterRelease() throws Exception {
    AbstractLockService holder = service();
    AbstractLockService waiter = service();
    String name = uniqueName("contract:handoff");
    LockHandle h = holder.acquireBlocking(name, MAX_WAIT);

    CompletableFuture<LockHandle> waiting =
        waiter.acquire(name, Duration.ofSeconds(20)).toCompletableFuture();
    Thread.sleep(300);
    assertThat(waiting).isNotDone();
    LockService.await(h.release());

    LockHandle next = waiting.get(LEASE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(next.fencingToken()).isGreaterThan(h.fencingToken());
    LockService.await(next.release());
  }

  @Test
  void theHandleNotTheThreadOwnsTheHold() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("contract:handle");
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      LockHandle h = threads.submit(() -> service.acquireBlocking(name, MAX_WAIT)).get();
      ReleaseResult released =
          threads.submit(() -> LockService.await(h.release())).get(10, TimeUnit.SECONDS);
      assertThat(released).isEqualTo(ReleaseResult.RELEASED);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void badInputFailsFastNamingTheField() {
    AbstractLockService service = service();
    assertThatThrownBy(() -> service.acquire(" ", MAX_WAIT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name");
    assertThatThrownBy(() -> service.acquire("x", MAX_WAIT.plusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxWait");
    assertThatThrownBy(() -> service.acquire("x", Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxWait");
    assertThatThrownBy(() -> settings().withLeaseDuration(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leaseDuration");
    assertThatThrownBy(() -> settings().withTiming(Duration.ofSeconds(2), Duration.ofSeconds(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renewInterval");
  }

  @Test
  void aBackendRestartFailsAcquiresClearlyAndNeverYieldsTwoHolders() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService other = service();
    String name = uniqueName("contract:restart");
    String probeName = uniqueName("contract:restart-probe");
    LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);

    stopBackend();
    try {
      long start = System.nanoTime();
      assertThatThrownBy(() -> other.acquireBlocking(probeName, Duration.ofSeconds(5)))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining(other.backend());
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    } finally {
      startBackend();
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptionsInstanceOf(BackendUnavailableException.class)
        .until(
            () -> {
              LockHandle h = other.acquireBlocking(probeName, Duration.ofSeconds(2));
              LockService.await(h.release());
              return true;
            });

    // The old hold either survived the restart, or its handle says it is gone: never both holders.
    try {
      LockHandle second = other.acquireBlocking(name, Duration.ofMillis(500));
      assertThat(held.isHeld()).as("old holder still thinks it holds").isFalse();
      assertThat(second.fencingToken()).isGreaterThan(held.fencingToken());
      LockService.await(second.release());
    } catch (LockTimeoutException stillHeld) {
      assertThat(held.lost().toCompletableFuture().isDone()).isFalse();
      LockService.await(held.release());
    }
  }
}
