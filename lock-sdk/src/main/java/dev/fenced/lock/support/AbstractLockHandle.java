package dev.fenced.lock.support;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ReleaseResult;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a hold, shared by every backend: renewal every {@code renewInterval}, a local lease
 * deadline that errs early (counted from when the winning or renewing request was sent, less the
 * {@link LockSettings#clockDrift} margin), the loss signal, and a release that runs at most once.
 *
 * <p>A backend supplies three things: how to renew ({@link #renewOnBackend()}), how to remove its
 * own record by compare-owner ({@link #releaseOnBackend()}), and what to free afterwards ({@link
 * #onEnded()}).
 */
public abstract class AbstractLockHandle implements LockHandle {

  private static final Logger LOG = LoggerFactory.getLogger(AbstractLockHandle.class);

  private enum State {
    HELD,
    RELEASING,
    RELEASED,
    LOST
  }

  private final String name;
  private final long token;
  private final String ownerId;
  private final String backend;
  private final long leaseNanos;
  private final long renewNanos;
  private final LeaseKeeper keeper;
  private final AtomicReference<State> state = new AtomicReference<>(State.HELD);
  private final CompletableFuture<LockLoss> lost = new CompletableFuture<>();
  private volatile long validUntilNanos;
  private volatile ScheduledFuture<?> renewTask;
  private volatile ScheduledFuture<?> expiryTask;

  /**
   * @param sentAtNanos {@link System#nanoTime()} when the request that won the hold was sent: the
   *     trusted lease is counted from there, so the local deadline is never later than the
   *     backend's
   */
  protected AbstractLockHandle(
      String backend,
      String name,
      long token,
      String ownerId,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAtNanos) {
    this.backend = backend;
    this.name = name;
    this.token = token;
    this.ownerId = ownerId;
    this.leaseNanos = settings.trustedLease().toNanos();
    this.renewNanos = settings.renewInterval().toNanos();
    this.keeper = keeper;
    this.validUntilNanos = sentAtNanos + leaseNanos;
  }

  private volatile Runnable endHook = () -> {};
  private volatile Executor callbacks = Runnable::run;

  /**
   * Starts the renewal and expiry timers; called once by {@link AbstractLockService#started}.
   *
   * @param callbacks where {@link #lost()} and {@link #release()} complete, so a caller's blocking
   *     continuation never holds up the timer or the backend client's threads
   */
  final void startRenewing(Runnable onEnd, Executor callbacks) {
    this.endHook = onEnd;
    this.callbacks = callbacks;
    scheduleRenew();
    scheduleExpiryCheck();
  }

  /**
   * Stops this handle without touching the backend, as when its process dies: the backend frees the
   * hold when the lease or session ends. The handle reports the loss.
   */
  final void abandon() {
    if (!state.compareAndSet(State.HELD, State.LOST)) {
      return;
    }
    cancelTimers();
    LockLoss loss =
        new LockLoss(name, token, LockLoss.Reason.SESSION_ENDED, "the lock service was closed");
    callbacks.execute(() -> lost.complete(loss));
    end();
  }

  /**
   * Extends the hold on the backend, compare-owner. Completes with true when the backend still
   * records this owner, false when it does not (the hold is then lost), or fails when the backend
   * could not be asked (the local deadline decides).
   */
  protected abstract CompletionStage<Boolean> renewOnBackend();

  /**
   * Removes this owner's record, compare-owner, touching nobody else's. Completes with true when a
   * record of this owner was removed.
   */
  protected abstract CompletionStage<Boolean> releaseOnBackend();

  /**
   * Frees what the hold used (a pinned connection, a watch). Called once, after release or loss.
   */
  protected void onEnded() {}

  @Override
  public String name() {
    return name;
  }

  @Override
  public long fencingToken() {
    return token;
  }

  @Override
  public String ownerId() {
    return ownerId;
  }

  @Override
  public Instant expiresAt() {
    return Instant.now().plusNanos(validUntilNanos - System.nanoTime());
  }

  @Override
  public boolean isHeld() {
    return state.get() == State.HELD && System.nanoTime() - validUntilNanos < 0;
  }

  @Override
  public CompletionStage<LockLoss> lost() {
    return lost;
  }

  @Override
  public CompletionStage<ReleaseResult> release() {
    if (!state.compareAndSet(State.HELD, State.RELEASING)) {
      return CompletableFuture.completedFuture(ReleaseResult.NOT_HELD);
    }
    cancelTimers();
    CompletionStage<Boolean> removal;
    try {
      removal = releaseOnBackend();
    } catch (RuntimeException e) {
      removal = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<ReleaseResult> result = new CompletableFuture<>();
    removal.whenComplete(
        (removed, error) -> {
          state.set(State.RELEASED);
          end();
          callbacks.execute(
              () -> {
                if (error != null) {
                  result.completeExceptionally(
                      new BackendUnavailableException(backend, name, Failures.unwrap(error)));
                } else {
                  result.complete(
                      Boolean.TRUE.equals(removed)
                          ? ReleaseResult.RELEASED
                          : ReleaseResult.NOT_HELD);
                }
              });
        });
    return result;
  }

  /**
   * Reports the hold lost: completes {@link #lost()}, stops renewing, and removes this owner's
   * record if it is still there (compare-owner, so harmless when someone else holds now).
   */
  protected final void markLost(LockLoss.Reason reason, String detail) {
    if (!state.compareAndSet(State.HELD, State.LOST)) {
      return;
    }
    cancelTimers();
    LOG.warn("lost lock '{}' (token {}) on {}: {}", name, token, backend, detail);
    LockLoss loss = new LockLoss(name, token, reason, detail);
    callbacks.execute(() -> lost.complete(loss));
    CompletionStage<Boolean> cleanup;
    try {
      cleanup = releaseOnBackend();
    } catch (RuntimeException e) {
      cleanup = CompletableFuture.failedFuture(e);
    }
    cleanup.whenComplete((removed, error) -> end());
  }

  /** For backends that learn of a loss by themselves (a session ended, a watch saw the key go). */
  protected final boolean isActive() {
    return state.get() == State.HELD;
  }

  /**
   * Whether the hold ended by a loss rather than a release. Set before {@link #releaseOnBackend()}
   * runs for the loss, while {@link #lost()} completes later, on the callback threads.
   */
  protected final boolean wasLost() {
    return state.get() == State.LOST;
  }

  protected final String backend() {
    return backend;
  }

  private void end() {
    endHook.run();
    try {
      onEnded();
    } catch (RuntimeException e) {
      LOG.debug("cleanup after lock '{}' failed", name, e);
    }
  }

  private void scheduleRenew() {
    renewTask = keeper.schedule(this::renewTick, renewNanos);
  }

  private void renewTick() {
    if (state.get() != State.HELD) {
      return;
    }
    if (keeper.isPaused()) {
      scheduleRenew();
      return;
    }
    long sentAt = System.nanoTime();
    CompletionStage<Boolean> renewal;
    try {
      renewal = renewOnBackend();
    } catch (RuntimeException e) {
      renewal = CompletableFuture.failedFuture(e);
    }
    renewal.whenComplete(
        (stillOurs, error) -> {
          if (state.get() != State.HELD) {
            return;
          }
          if (error == null && Boolean.TRUE.equals(stillOurs)) {
            if (sentAt + leaseNanos - validUntilNanos > 0) {
              validUntilNanos = sentAt + leaseNanos;
              scheduleExpiryCheck();
            }
          } else if (error == null) {
            markLost(LockLoss.Reason.RENEWAL_REJECTED, "the backend no longer records this owner");
            return;
          } else {
            LOG.debug(
                "renewal of '{}' on {} failed; retrying until the lease ends",
                name,
                backend,
                error);
          }
          scheduleRenew();
        });
  }

  private void scheduleExpiryCheck() {
    ScheduledFuture<?> previous = expiryTask;
    expiryTask = keeper.schedule(this::expiryCheck, validUntilNanos - System.nanoTime());
    if (previous != null) {
      previous.cancel(false);
    }
  }

  private void expiryCheck() {
    if (state.get() == State.HELD && System.nanoTime() - validUntilNanos >= 0) {
      markLost(
          LockLoss.Reason.LEASE_EXPIRED,
          "no renewal succeeded within the lease; another holder may own the lock now");
    }
  }

  private void cancelTimers() {
    ScheduledFuture<?> renew = renewTask;
    if (renew != null) {
      renew.cancel(false);
    }
    ScheduledFuture<?> expiry = expiryTask;
    if (expiry != null) {
      expiry.cancel(false);
    }
  }

  @Override
  public String toString() {
    return getClass().getSimpleName()
        + "{name="
        + name
        + ", token="
        + token
        + ", owner="
        + ownerId
        + ", state="
        + state.get()
        + "}";
  }
}
