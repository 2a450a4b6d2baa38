package dev.fenced.lock.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.support.AcquireLoop.Attempt;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WaitersTest {

  private final LeaseKeeper keeper = new LeaseKeeper();
  private final Waiters waiters = new Waiters();

  @AfterEach
  void close() {
    keeper.close();
  }

  @Test
  void aWakeCompletesOnlyTheHeadsSignal() {
    Waiters.Waiter first = waiters.join("n");
    Waiters.Waiter second = waiters.join("n");
    assertThat(first.turn()).isCompletedWithValue(true);
    assertThat(second.turn()).isNotDone();
    CompletableFuture<Void> headSignal = first.arm();
    CompletableFuture<Void> otherSignal = second.arm();

    waiters.wake("n");

    assertThat(headSignal).isDone();
    assertThat(otherSignal).isNotDone();
  }

  @Test
  void theNextWaiterTriesAtOnceWhenTheHeadLeftWithoutHoldingAndWaitsWhenItHolds() {
    Waiters.Waiter first = waiters.join("n");
    Waiters.Waiter second = waiters.join("n");
    Waiters.Waiter third = waiters.join("n");

    first.leave(false);
    assertThat(second.turn()).isCompletedWithValue(true);

    second.leave(true);
    assertThat(third.turn()).isCompletedWithValue(false);
    CompletableFuture<Void> armed = third.armed();
    assertThat(armed).isNotDone();
    waiters.wake("n"); // the holder released
    assertThat(armed).isDone();
    third.leave(true);
    assertThat(waiters.waiting("n")).isZero();
  }

  @Test
  void aQueuedWaiterWhoseTimeRunsOutLeavesWithoutDisturbingTheHead() {
    Waiters.Waiter first = waiters.join("n");
    Waiters.Waiter second = waiters.join("n");
    Waiters.Waiter third = waiters.join("n");

    assertThat(second.leaveIfQueued()).isTrue();
    assertThat(first.leaveIfQueued()).isFalse(); // the head leaves through its own loop

    first.leave(false);
    assertThat(third.turn()).isCompletedWithValue(true);
    assertThat(waiters.waiting("n")).isEqualTo(1);
  }

  /**
   * One lock, several waiters in this process, releases notified through {@link Waiters}: each
   * release costs one attempt, not one per waiter, and the waiters hold in arrival order.
   */
  @Test
  void eachReleaseCostsOneAttemptAndWaitersHoldInArrivalOrder() throws Exception {
    AtomicReference<LockHandle> holder = new AtomicReference<>();
    AtomicInteger attempts = new AtomicInteger();
    LockHandle first = new Hold();
    holder.set(first);
    int count = 5;
    List<CompletableFuture<LockHandle>> waiting = new ArrayList<>();
    List<LockHandle> order = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      LockHandle me = new Hold();
      order.add(me);
      waiting.add(
          AcquireLoop.run(
                  "n",
                  Duration.ofSeconds(30),
                  keeper,
                  waiters,
                  Duration.ofSeconds(30),
                  () -> tryTake(holder, me, attempts))
              .toCompletableFuture());
      await().atMost(Duration.ofSeconds(5)).until(() -> waiters.waiting("n") == waiting.size());
    }
    // The back-off is long (5 ms doubling, but the head's first pause is all it gets before the
    // first release): wait until the head is asleep, then count attempts per release.
    Thread.sleep(200);
    int before = attempts.get();

    for (int i = 0; i < count; i++) {
      LockHandle current = holder.get();
      assertThat(holder.compareAndSet(current, null)).isTrue();
      waiters.wake("n");
      LockHandle next = order.get(i);
      assertThat(waiting.get(i).get(5, TimeUnit.SECONDS)).isSameAs(next);
    }
    // One attempt per release, give or take a back-off tick of the head.
    assertThat(attempts.get() - before).isLessThanOrEqualTo(count + count);
    assertThat(waiters.waiting("n")).isZero();
  }

  @Test
  void aQueuedWaiterTimesOutAndTheRestStillGetTheirTurn() throws Exception {
    AtomicReference<LockHandle> holder = new AtomicReference<>(new Hold());
    AtomicInteger attempts = new AtomicInteger();
    LockHandle a = new Hold();
    LockHandle b = new Hold();
    CompletableFuture<LockHandle> head =
        AcquireLoop.run(
                "n",
                Duration.ofSeconds(30),
                keeper,
                waiters,
                Duration.ofMillis(50),
                () -> tryTake(holder, a, attempts))
            .toCompletableFuture();
    CompletableFuture<LockHandle> impatient =
        AcquireLoop.run(
                "n",
                Duration.ofMillis(100),
                keeper,
                waiters,
                Duration.ofMillis(50),
                () -> tryTake(holder, new Hold(), attempts))
            .toCompletableFuture();
    CompletableFuture<LockHandle> patient =
        AcquireLoop.run(
                "n",
                Duration.ofSeconds(30),
                keeper,
                waiters,
                Duration.ofMillis(50),
                () -> tryTake(holder, b, attempts))
            .toCompletableFuture();

    await().atMost(Duration.ofSeconds(5)).until(() -> impatient.isCompletedExceptionally());
    assertThat(impatient)
        .failsWithin(Duration.ZERO)
        .withThrowableThat()
        .withCauseInstanceOf(LockTimeoutException.class);

    // No notification at all: the head's back-off alone finds the lock free.
    holder.set(null);
    assertThat(head.get(5, TimeUnit.SECONDS)).isSameAs(a);
    holder.set(null);
    assertThat(patient.get(5, TimeUnit.SECONDS)).isSameAs(b);
  }

  @Test
  void aHoldWonAfterTheCallerGaveUpIsReleasedAndTheQueueMovesOn() throws Exception {
    CompletableFuture<Attempt<LockHandle>> inFlight = new CompletableFuture<>();
    Hold won = new Hold();
    CompletableFuture<LockHandle> abandoned =
        AcquireLoop.run(
                "n", Duration.ofSeconds(30), keeper, waiters, Duration.ofSeconds(1), () -> inFlight)
            .toCompletableFuture();
    AtomicReference<LockHandle> holder = new AtomicReference<>(won);
    LockHandle b = new Hold();
    CompletableFuture<LockHandle> queued =
        AcquireLoop.run(
                "n",
                Duration.ofSeconds(30),
                keeper,
                waiters,
                Duration.ofSeconds(30),
                () -> tryTake(holder, b, new AtomicInteger()))
            .toCompletableFuture();
    CompletableFuture<LockHandle> cancelled =
        AcquireLoop.run(
                "n",
                Duration.ofSeconds(30),
                keeper,
                waiters,
                Duration.ofSeconds(30),
                () -> tryTake(holder, new Hold(), new AtomicInteger()))
            .toCompletableFuture();
    assertThat(waiters.waiting("n")).isEqualTo(3);

    // A queued waiter whose caller cancels leaves the queue at once, not at its deadline.
    cancelled.cancel(false);
    assertThat(waiters.waiting("n")).isEqualTo(2);

    // The head's caller gives up while its attempt is in flight; the attempt then wins.
    abandoned.cancel(false);
    inFlight.complete(Attempt.acquired(won));
    assertThat(won.released).isTrue();
    holder.set(null);
    waiters.wake("n"); // what the release of a real backend does
    assertThat(queued.get(5, TimeUnit.SECONDS)).isSameAs(b);
    assertThat(waiters.waiting("n")).isZero();
  }

  private static CompletionStage<Attempt<LockHandle>> tryTake(
      AtomicReference<LockHandle> holder, LockHandle me, AtomicInteger attempts) {
    attempts.incrementAndGet();
    return CompletableFuture.completedFuture(
        holder.compareAndSet(null, me) ? Attempt.acquired(me) : Attempt.busy(0));
  }

  /** A stand-in hold: the queue only passes it along. */
  private static final class Hold implements LockHandle {
    private volatile boolean released;

    @Override
    public String name() {
      return "n";
    }

    @Override
    public long fencingToken() {
      return 0;
    }

    @Override
    public String ownerId() {
      return Integer.toHexString(System.identityHashCode(this));
    }

    @Override
    public Instant expiresAt() {
      return Instant.MAX;
    }

    @Override
    public boolean isHeld() {
      return true;
    }

    @Override
    public CompletionStage<LockLoss> lost() {
      return new CompletableFuture<>();
    }

    @Override
    public CompletionStage<ReleaseResult> release() {
      released = true;
      return CompletableFuture.completedFuture(ReleaseResult.RELEASED);
    }
  }
}
