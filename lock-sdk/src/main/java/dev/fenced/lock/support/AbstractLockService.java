package dev.fenced.lock.support;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Incarnation;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What every backend's service shares: argument checks, the policy epoch in the token, the lease
 * keeper, and a close that runs once.
 */
public abstract class AbstractLockService implements LockService {

  protected final LockSettings settings;
  protected final LeaseKeeper keeper;
  private final boolean ownsKeeper;
  private final Set<AbstractLockHandle> live = ConcurrentHashMap.newKeySet();
  private final List<Runnable> doubtListeners = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * @param keeper the timer for renewals and back-off; null to give this service its own
   */
  protected AbstractLockService(LockSettings settings, LeaseKeeper keeper) {
    this.settings = settings;
    this.ownsKeeper = keeper == null;
    this.keeper = keeper == null ? new LeaseKeeper() : keeper;
  }

  @Override
  public final LockSettings settings() {
    return settings;
  }

  /** The keeper behind this service's renewals; {@link LeaseKeeper#pause()} simulates a pause. */
  public final LeaseKeeper keeper() {
    return keeper;
  }

  @Override
  public final CompletionStage<LockHandle> acquire(String name, Duration maxWait) {
    settings.checkAcquire(name, maxWait);
    if (closed) {
      return CompletableFuture.failedFuture(
          new BackendUnavailableException(
              backend(), name, new IllegalStateException("the lock service is closed")));
    }
    return doAcquire(name, maxWait);
  }

  /** Acquires a checked name; failures must be {@link dev.fenced.lock.LockException}s. */
  protected abstract CompletionStage<LockHandle> doAcquire(String name, Duration maxWait);

  /**
   * Starts renewing a new hold and tracks it until it ends, so {@link #close()} can abandon it.
   * Every backend passes each handle through here before returning it.
   */
  protected final <H extends AbstractLockHandle> H started(H handle) {
    live.add(handle);
    handle.startRenewing(() -> live.remove(handle));
    return handle;
  }

  /** How many holds of this service are neither released nor lost. */
  public final int liveHolds() {
    return live.size();
  }

  /** The token for this backend's counter value, in this policy's epoch. */
  protected final long token(long counter) {
    return FencingTokens.compose(settings.epoch(), counter);
  }

  /**
   * The backend's ledger: which policies used it at which epoch, and which incarnation of the
   * backend that was. Administrative, like {@link #provision()}: the operator and {@code
   * PolicyLocks} read and write it; holders never need it. Empty for backends that keep nothing
   * outside the process (InProcess, None).
   */
  public Optional<BackendLedger> ledger() {
    return Optional.empty();
  }

  /**
   * The incarnation of the backend that this service's epoch was checked against (by {@code
   * PolicyLocks}, against the policy's status or the ledger). A backend that can tell in the same
   * round trip as an acquire whether it is still that incarnation refuses holds from now on once it
   * is not (Redis: the marker key), instead of granting one before the next check. The default does
   * nothing.
   */
  public void confirmIncarnation(Incarnation incarnation) {}

  /**
   * Tells {@code listener} whenever this service sees a sign that its backend may no longer be the
   * incarnation its epoch was set for (an acquire refused for it, a lock's Lease deleted), so the
   * incarnation is checked at once rather than at the next periodic check. Called on the service's
   * threads; keep it short.
   */
  public final void onIncarnationDoubt(Runnable listener) {
    doubtListeners.add(listener);
  }

  /** A sign that the backend may have changed incarnation: see {@link #onIncarnationDoubt}. */
  protected final void incarnationDoubt() {
    doubtListeners.forEach(Runnable::run);
  }

  protected final boolean isClosed() {
    return closed;
  }

  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (AbstractLockHandle handle : List.copyOf(live)) {
      handle.abandon();
    }
    try {
      closeBackend();
    } finally {
      if (ownsKeeper) {
        keeper.close();
      }
    }
  }

  /** Closes connections without releasing holds. */
  protected abstract void closeBackend();
}
