package dev.fenced.lock;

import dev.fenced.lock.support.Failures;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * A family of named locks on one backend, every hold fenced by a monotonic token.
 *
 * <p>Contract, shared by every backend and proven by one contract test:
 *
 * <ul>
 *   <li>{@link #acquire(String, Duration)} completes with a {@link LockHandle} once this client
 *       holds the lock, or fails with a {@link LockException} that says why: {@link
 *       LockTimeoutException} when {@code maxWait} passed, {@link BackendUnavailableException} when
 *       the backend could not be reached, {@link InvalidLockPolicyException} when the settings are
 *       unusable.
 *   <li>The handle, not the calling thread, owns the hold: acquire on one thread, release on
 *       another.
 *   <li>Every acquire that succeeds must be matched by one {@link LockHandle#release()}. A handle
 *       that lost its hold (lease lapsed, renewal refused) releases nothing that belongs to another
 *       holder.
 *   <li>{@link LockHandle#fencingToken()} is strictly larger than the token of every earlier hold
 *       of the same name, across processes and client restarts (see each backend's notes for
 *       limits).
 *   <li>While held, the lease is renewed every {@link LockSettings#renewInterval()}; when renewal
 *       fails for longer than the lease, {@link LockHandle#lost()} completes.
 * </ul>
 *
 * <p>Only the locks are here. Preparing the backend for them, probing it and its ledger of epochs
 * are {@link LockAdmin}'s; the service a backend builds is both ({@link ManagedLockService}), and
 * code that only takes locks is given this view.
 */
public interface LockService extends AutoCloseable {

  /**
   * The backend's name as LockPolicy spells it, e.g. {@code Redis} or {@code Postgres/LockTable}.
   */
  String backend();

  /** The settings every lock of this service uses. */
  LockSettings settings();

  /**
   * Acquires {@code name}, waiting at most {@code maxWait}.
   *
   * @throws IllegalArgumentException (synchronously) for a blank or over-long name, or a negative
   *     wait or one longer than {@link LockSettings#maxWait()}
   */
  CompletionStage<LockHandle> acquire(String name, Duration maxWait);

  /** Acquires {@code name}, waiting at most {@link LockSettings#maxWait()}. */
  default CompletionStage<LockHandle> acquire(String name) {
    return acquire(name, settings().maxWait());
  }

  /**
   * Blocking form of {@link #acquire(String, Duration)}, for callers on worker or virtual threads.
   */
  default LockHandle acquireBlocking(String name, Duration maxWait) {
    CompletionStage<LockHandle> stage = acquire(name, maxWait);
    try {
      return await(stage);
    } catch (LockInterruptedException e) {
      // Nobody will receive the handle if the acquire still goes through: give it back.
      stage.thenAccept(LockHandle::release);
      throw e;
    }
  }

  /**
   * Stops renewing and closes connections. Holds still open are not released: like a crash, the
   * backend frees them when their lease ends. Release first for a clean hand-over.
   */
  @Override
  void close();

  /** Waits for a stage and unwraps its failure, so blocking callers see the typed exception. */
  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LockInterruptedException(e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  private static RuntimeException rethrow(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    return new CompletionException(cause);
  }
}
