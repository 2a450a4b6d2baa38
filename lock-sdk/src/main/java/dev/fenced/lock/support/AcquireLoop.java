package dev.fenced.lock.support;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Try, then wait for a wake-up signal or a jittered, bounded back-off, until the deadline. For
 * backends whose server does not queue waiters itself.
 */
public final class AcquireLoop<H> {

  /** One try: either the handle, or how long until the current hold may lapse (0 if unknown). */
  public record Attempt<H>(H acquired, long retryAfterNanos) {
    public static <H> Attempt<H> acquired(H handle) {
      return new Attempt<>(handle, 0);
    }

    public static <H> Attempt<H> busy(long retryAfterNanos) {
      return new Attempt<>(null, Math.max(0, retryAfterNanos));
    }
  }

  private static final long FIRST_BACKOFF = TimeUnit.MILLISECONDS.toNanos(5);

  private final String backend;
  private final String name;
  private final Duration maxWait;
  private final LeaseKeeper keeper;
  private final Waiters waiters;
  private final long maxBackoffNanos;
  private final Supplier<CompletionStage<Attempt<H>>> attempt;
  private final long deadline;
  private final CompletableFuture<H> result = new CompletableFuture<>();
  private long backoff = FIRST_BACKOFF;

  private AcquireLoop(
      String backend,
      String name,
      Duration maxWait,
      LeaseKeeper keeper,
      Waiters waiters,
      Duration maxBackoff,
      Supplier<CompletionStage<Attempt<H>>> attempt) {
    this.backend = backend;
    this.name = name;
    this.maxWait = maxWait;
    this.keeper = keeper;
    this.waiters = waiters;
    this.maxBackoffNanos = maxBackoff.toNanos();
    this.attempt = attempt;
    this.deadline = System.nanoTime() + maxWait.toNanos();
  }

  /**
   * Runs attempts until one acquires or {@code maxWait} passes.
   *
   * @param waiters notification signals, or null when the backend has none (then back-off only)
   * @param maxBackoff the longest pause between attempts; with notifications it only bounds how
   *     long a missed notification can delay a waiter
   */
  public static <H> CompletionStage<H> run(
      String backend,
      String name,
      Duration maxWait,
      LeaseKeeper keeper,
      Waiters waiters,
      Duration maxBackoff,
      Supplier<CompletionStage<Attempt<H>>> attempt) {
    AcquireLoop<H> loop =
        new AcquireLoop<>(backend, name, maxWait, keeper, waiters, maxBackoff, attempt);
    loop.next();
    return loop.result;
  }

  private void next() {
    CompletableFuture<Void> signal = waiters == null ? null : waiters.signal(name);
    CompletionStage<Attempt<H>> stage;
    try {
      stage = attempt.get();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete(
        (outcome, error) -> {
          if (error != null) {
            result.completeExceptionally(asLockException(error));
          } else if (outcome.acquired() != null) {
            result.complete(outcome.acquired());
          } else {
            waitThenRetry(signal, outcome.retryAfterNanos());
          }
        });
  }

  private void waitThenRetry(CompletableFuture<Void> signal, long retryAfterNanos) {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
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
    var timer = keeper.schedule(() -> wake.complete(null), wait);
    if (signal != null) {
      signal.whenComplete((v, e) -> wake.complete(null));
    }
    wake.whenComplete(
        (v, e) -> {
          timer.cancel(false);
          next();
        });
  }

  private Throwable asLockException(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    if (cause instanceof LockException || cause instanceof IllegalArgumentException) {
      return cause;
    }
    return new BackendUnavailableException(backend, name, cause);
  }
}
