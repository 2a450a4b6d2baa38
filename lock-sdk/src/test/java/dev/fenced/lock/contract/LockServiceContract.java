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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
    return new LockSettings(lease(), renew(), MAX_WAIT, LockSettings.Fencing.REQUIRED, 0);
  }

  /**
   * The lease every case uses, and measures itself by. {@link #LEASE} unless a backend needs longer
   * to keep a hold alive on a loaded machine: then its cases wait longer, and prove the same.
   */
  protected Duration lease() {
    return LEASE;
  }

  protected Duration renew() {
    return RENEW;
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
    assertThat(took).isLessThan(lease().plus(crashSlack()));
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
        stale.lost().toCompletableFuture().get(lease().toMillis() * 3, TimeUnit.MILLISECONDS);
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
    stale.lost().toCompletableFuture().get(lease().toMillis() * 3, TimeUnit.MILLISECONDS);

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

    Thread.sleep(lease().multipliedBy(2).toMillis());

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

    LockHandle next = waiting.get(lease().toMillis(), TimeUnit.MILLISECONDS);
    assertThat(next.fencingToken()).isGreaterThan(h.fencingToken());
    LockService.await(next.release());
  }

  @Test
  void anAcquireTheCallerGaveUpOnLeavesNoHoldBehind() throws Exception {
    AbstractLockService holder = service();
    AbstractLockService waiter = service();
    AbstractLockService next = service();
    String name = uniqueName("contract:abandoned");
    LockHandle held = holder.acquireBlocking(name, MAX_WAIT);

    CompletableFuture<LockHandle> cancelled =
        waiter.acquire(name, Duration.ofSeconds(20)).toCompletableFuture();
    CompletableFuture<LockHandle> timedOut =
        waiter
            .acquire(name, Duration.ofSeconds(20))
            .toCompletableFuture()
            .orTimeout(300, TimeUnit.MILLISECONDS);
    assertThat(cancelled.cancel(true)).isTrue();
    assertThatThrownBy(timedOut::join).hasCauseInstanceOf(TimeoutException.class);
    LockService.await(held.release());

    // Whatever the two abandoned acquires still win, nobody receives it: it must be given back,
    // not renewed for as long as the process lives. They may win before or after this holder.
    LockHandle after = next.acquireBlocking(name, Duration.ofSeconds(10));
    assertThat(after.fencingToken()).isGreaterThan(held.fencingToken());
    LockService.await(after.release());
    await().pollDelay(lease()).atMost(lease().multipliedBy(3)).until(() -> waiter.liveHolds() == 0);
    LockService.await(next.acquireBlocking(name, Duration.ofSeconds(10)).release());
  }

  /**
   * Ends {@code holder}'s hold from outside the service, as another client or an administrator
   * would, so that its next renewal is refused. Backends where nothing outside can do that skip the
   * tests that need it.
   */
  protected void takeAway(AbstractLockService service, LockHandle holder) throws Exception {
    Assumptions.abort("this backend's holds cannot be taken away from outside");
  }

  @Test
  void anAcquireCallbackThatBlocksStallsNoOtherHoldsRenewal() throws Exception {
    AbstractLockService service = service();
    AbstractLockService other = service();
    String name = uniqueName("contract:blocking-acquire-callback");
    LockHandle kept = service.acquireBlocking(uniqueName("contract:kept"), MAX_WAIT);
    LockHandle blocker = other.acquireBlocking(name, MAX_WAIT);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch unblock = new CountDownLatch(1);
    CompletableFuture<LockHandle> waiting = service.acquire(name, MAX_WAIT).toCompletableFuture();
    CompletableFuture<Void> callback =
        waiting.thenAccept(
            h -> {
              entered.countDown();
              awaitQuietly(unblock);
            });
    // Released from another thread, so that thread is not the one the callback may run on.
    CompletableFuture.runAsync(() -> LockService.await(blocker.release()));
    assertThat(entered.await(20, TimeUnit.SECONDS)).as("the acquire completed").isTrue();
    try {
      // While the caller's callback blocks, the service's other hold is renewed past its lease.
      await().during(lease().multipliedBy(2)).atMost(lease().multipliedBy(4)).until(kept::isHeld);
      assertThat(kept.lost()).isNotDone();
    } finally {
      unblock.countDown();
    }
    callback.get(10, TimeUnit.SECONDS);
    LockService.await(waiting.get().release());
    LockService.await(kept.release());
  }

  @Test
  void aLostCallbackThatBlocksStallsNoOtherHoldsRenewal() throws Exception {
    AbstractLockService service = service();
    LockHandle kept = service.acquireBlocking(uniqueName("contract:kept"), MAX_WAIT);
    LockHandle doomed = service.acquireBlocking(uniqueName("contract:doomed"), MAX_WAIT);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch unblock = new CountDownLatch(1);
    doomed
        .lost()
        .thenAccept(
            loss -> {
              entered.countDown();
              awaitQuietly(unblock);
            });

    takeAway(service, doomed);
    assertThat(entered.await(lease().multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS))
        .as("the loss was reported")
        .isTrue();
    try {
      await().during(lease().multipliedBy(2)).atMost(lease().multipliedBy(4)).until(kept::isHeld);
      assertThat(kept.lost()).isNotDone();
    } finally {
      unblock.countDown();
    }
    assertThat(LockService.await(kept.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
    // A sub-millisecond lease (Redis would be sent PX 0) and a renewal that would spin.
    assertThatThrownBy(
            () -> settings().withTiming(Duration.ofNanos(500_000), Duration.ofNanos(100_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("leaseDuration must be at least");
    assertThatThrownBy(() -> settings().withRenewInterval(Duration.ofNanos(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("renewInterval must be at least");
    // Names every backend can store apart: no unpaired surrogate (UTF-8 has no form for it, and
    // encoders would make "x\uD800" and "x\uDBFF" one lock), no leading '}' (Redis Cluster).
    for (String bad : List.of("vote:\uD800", "vote:\uDC00x", "}vote")) {
      assertThatThrownBy(() -> service.acquire(bad, MAX_WAIT))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("name must not");
    }
  }

  @Test
  void aBackendRestartFailsAcquiresClearlyAndNeverYieldsTwoHolders() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService other = service();
    String name = uniqueName("contract:restart");
    String probeName = uniqueName("contract:restart-probe");
    PgCounter counter = new PgCounter(name);
    LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);
    assertThat(counter.fencedSet(1, held.fencingToken())).isTrue();

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

    // Never two holders: the moment the new holder learns it holds, the old handle has already
    // stopped claiming the lock, and never claims it again. A hold that a restarted backend forgot
    // is over within a lease; one it kept (and its holder renews) keeps the lock from the new
    // holder for longer than that.
    AtomicBoolean oldStillHeld = new AtomicBoolean();
    CompletableFuture<LockHandle> next =
        other
            .acquire(name, lease().multipliedBy(2).plusSeconds(1))
            .thenApply(
                h -> {
                  oldStillHeld.set(held.isHeld());
                  return h;
                })
            .toCompletableFuture();
    LockHandle fresh;
    try {
      fresh = next.get(MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(oldStillHeld).as("the old holder still believed it held").isFalse();
      assertThat(held.isHeld()).isFalse();
    } catch (ExecutionException kept) {
      assertThat(kept.getCause()).isInstanceOf(LockTimeoutException.class);
      assertThat(held.isHeld()).as("the backend kept the old hold: its holder holds").isTrue();
      assertThat(held.lost()).isNotDone();
      assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);
      fresh = other.acquireBlocking(name, MAX_WAIT);
    }
    assertThat(fresh.fencingToken()).isGreaterThan(held.fencingToken());

    // Storage that checks the token refuses the old holder's late write after the restart.
    assertThat(counter.fencedSet(2, fresh.fencingToken())).isTrue();
    assertThat(counter.fencedSet(99, held.fencingToken())).isFalse();
    assertThat(counter.value()).isEqualTo(2);
    LockService.await(fresh.release());
  }
}
