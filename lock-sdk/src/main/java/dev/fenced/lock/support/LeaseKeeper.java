package dev.fenced.lock.support;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The timer behind renewals, expiry checks and acquire back-off, shared by the handles of one or
 * more services.
 *
 * <p>{@link #pause()} stops every renewal of this keeper as a stop-the-world pause would (a long
 * GC, a frozen VM), while the backend's clock keeps running. It exists for fault-injection tests
 * and for demonstrating what fencing protects against; production code never calls it.
 */
public final class LeaseKeeper implements AutoCloseable {

  private static final AtomicInteger THREADS = new AtomicInteger();

  private final ScheduledThreadPoolExecutor timer;
  private volatile boolean paused;

  public LeaseKeeper() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "fenced-lease-keeper-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    // Most tasks end cancelled: an acquire's deadline when it holds in time, a hold's renewal when
    // it is released first. Left in the queue, each would keep its acquire or hold (and what they
    // reference) reachable until its delay ran out: at a thousand holds a second and a 30 s
    // deadline, tens of thousands of dead tasks, a growing heap and slower timer operations.
    executor.setRemoveOnCancelPolicy(true);
    this.timer = executor;
  }

  /** Stops renewals until {@link #resume()}, as a process pause would. */
  public void pause() {
    paused = true;
  }

  public void resume() {
    paused = false;
  }

  public boolean isPaused() {
    return paused;
  }

  /**
   * Runs {@code task} after {@code delayNanos} on the keeper's single timer thread; keep it short.
   */
  public ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
    return timer.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  /** Tasks waiting for their time; a cancelled one is not among them. */
  int queued() {
    return timer.getQueue().size();
  }

  /**
   * Full jitter: a random delay in [base/2, base], so waiters woken together do not retry together.
   */
  public static long jitter(long baseNanos) {
    if (baseNanos <= 1) {
      return baseNanos;
    }
    return baseNanos / 2 + ThreadLocalRandom.current().nextLong(baseNanos / 2 + 1);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
