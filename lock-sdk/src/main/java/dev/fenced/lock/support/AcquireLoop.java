package dev.fenced.lock.support;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Try, then wait for a wake-up signal or a jittered, bounded back-off, until the deadline. For
 * backends whose server does not queue waiters itself.
 *
 * <p>With {@link Waiters}, the acquires of one name in this process queue locally and only the head
 * of the queue tries the backend; the others wait for their turn (or their deadline) without
 * touching the backend. See {@link Waiters} for who is woken when.
 */
public final class AcquireLoop<H extends LockHandle> {

  /** One try: either the handle, or how long until the current hold may lapse (0 if unknown). */
  public record Attempt<H extends LockHandle>(H acquired, long retryAfterNanos) {
    public static <H extends LockHandle> Attempt<H> acquired(H handle) {
      return new Attempt<>(handle, 0);
    }

    public static <H extends LockHandle> Attempt<H> busy(long retryAfterNanos) {
      return new Attempt<>(null, Math.max(0, retryAfterNanos));
    }
  }

  private static final long FIRST_BACKOFF = TimeUnit.MILLISECONDS.toNanos(5);

  private final String name;
  private final Duration maxWait;
  private final LeaseKeeper keeper;
  private final Waiters waiters;
  private final long maxBackoffNanos;
  private final Supplier<CompletionStage<Attempt<H>>> attempt;
  private final long deadline;
  private final CompletableFuture<H> result = new CompletableFuture<>();
  private long backoff = FIRST_BACKOFF;
  private volatile Waiters.Waiter place;
  private volatile ScheduledFuture<?> queuedDeadline;
  private volatile CompletableFuture<Void> sleeping;

  private AcquireLoop(
      String name,
      Duration maxWait,
      LeaseKeeper keeper,
      Waiters waiters,
      Duration maxBackoff,
      Supplier<CompletionStage<Attempt<H>>> attempt) {
    this.name = name;
    this.maxWait = maxWait;
    this.keeper = keeper;
    this.waiters = waiters;
    this.maxBackoffNanos = maxBackoff.toNanos();
    this.attempt = attempt;
    this.deadline = System.nanoTime() + maxWait.toNanos();
  }

  /**
   * Runs attempts until one acquires or {@code maxWait} passes. The stage fails with {@link
   * dev.fenced.lock.LockTimeoutException} at the deadline, or with what an attempt failed with.
   *
   * @param waiters notification signals, or null when the backend has none (then back-off only)
   * @param maxBackoff the longest pause between attempts; with notifications it only bounds how
   *     long a missed notification can delay a waiter
   */
  public static <H extends LockHandle> CompletionStage<H> run(
      String name,
      Duration maxWait,
      LeaseKeeper keeper,
      Waiters waiters,
      Duration maxBackoff,
      Supplier<CompletionStage<Attempt<H>>> attempt) {
    AcquireLoop<H> loop = new AcquireLoop<>(name, maxWait, keeper, waiters, maxBackoff, attempt);
    loop.result.whenComplete((h, e) -> loop.callerDone());
    if (waiters == null) {
      loop.next();
    } else {
      loop.queue();
    }
    return loop.result;
  }

  /**
   * The result is complete: by this loop, or by the caller giving up (a cancel, a timeout of its
   * own). Then stop at once: leave the queue if still in it, cut a pause short so the loop sees it.
   */
  private void callerDone() {
    Waiters.Waiter queued = place;
    if (queued != null && queued.leaveIfQueued()) {
      ScheduledFuture<?> timer = queuedDeadline;
      if (timer != null) {
        timer.cancel(false);
      }
    }
    CompletableFuture<Void> pausing = sleeping;
    if (pausing != null) {
      pausing.complete(null);
    }
  }

  /** Takes a place in this process's queue of the name; tries once it is the head. */
  private void queue() {
    place = waiters.join(name);
    try {
      if (!place.turn().isDone()) {
        queuedDeadline = keeper.schedule(this::deadlineWhileQueued, deadline - System.nanoTime());
      }
    } catch (RuntimeException e) {
      // The keeper is closed: leave at once, or the waiters behind would never get a turn.
      if (place.leaveIfQueued()) {
        result.completeExceptionally(e);
        return;
      }
    }
    place
        .turn()
        .thenAccept(
            tryNow -> {
              ScheduledFuture<?> timer = queuedDeadline;
              if (timer != null) {
                timer.cancel(false);
              }
              if (tryNow) {
                next();
              } else {
                // The waiter ahead holds now: wait for its release (or the back-off).
                waitThenRetry(place.armed(), 0);
              }
            });
  }

  private void deadlineWhileQueued() {
    if (place.leaveIfQueued()) {
      result.completeExceptionally(new LockTimeoutException(name, maxWait));
    }
  }

  private void next() {
    if (result.isDone()) {
      leave(false); // the caller gave up
      return;
    }
    CompletableFuture<Void> signal = place == null ? null : place.arm();
    CompletionStage<Attempt<H>> stage;
    try {
      stage = attempt.get();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete(
        (outcome, error) -> {
          if (error != null) {
            leave(false);
            result.completeExceptionally(error);
          } else if (outcome.acquired() != null) {
            leave(true);
            Holds.handOver(result, outcome.acquired());
          } else {
            waitThenRetry(signal, outcome.retryAfterNanos());
          }
        });
  }

  private void leave(boolean holds) {
    if (place != null) {
      place.leave(holds);
    }
  }

  private void waitThenRetry(CompletableFuture<Void> signal, long retryAfterNanos) {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
      leave(false);
      result.completeExceptionally(new LockTimeoutException(name, maxWait));
      return;
    }
    long pause = LeaseKeeper.jitter(backoff);
    if (retryAfterNanos > 0) {
      // The current hold lapses then at the latest: no reason to sleep past it.
      pause = Math.min(pause, retryAfterNanos + FIRST_BACKOFF);
    }
    backoff = Math.min(backoff * 2, maxBackoffNanos);
    long wait = Math.min(pause, remaining);
    CompletableFuture<Void> wake = new CompletableFuture<>();
    sleeping = wake;
    if (result.isDone()) {
      wake.complete(null); // the caller gave up while the attempt was in flight
    }
    ScheduledFuture<?> timer;
    try {
      timer = keeper.schedule(() -> wake.complete(null), wait);
    } catch (RuntimeException e) {
      // The keeper is closed: give the turn to the next waiter rather than strand it.
      leave(false);
      result.completeExceptionally(e);
      return;
    }
    if (signal != null) {
      signal.whenComplete((v, e) -> wake.complete(null));
    }
    wake.whenComplete(
        (v, e) -> {
          timer.cancel(false);
          next();
        });
  }
}
