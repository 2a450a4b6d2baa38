package dev.fenced.lock.support;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ManagedLockService;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What every backend's service shares: argument checks, the policy epoch in the token, the lease
 * keeper, the one mapping of backend failures to the contract's typed exceptions, and a close that
 * runs once.
 *
 * <p>The convention for failures: a backend's own code completes its stages with whatever its
 * client failed with (and with {@link dev.fenced.lock.LockException}s it means, such as {@link
 * LockTimeoutException}). It never wraps a client error itself. {@link #acquire} and {@link #typed}
 * turn every failure into a {@link dev.fenced.lock.LockException} through {@link #failure}: a
 * {@code LockException} stays as it is, what {@link #classify} recognises becomes that, anything
 * else is {@link BackendUnavailableException}.
 */
public abstract class AbstractLockService implements ManagedLockService {

  private static final AtomicInteger CALLBACK_THREADS = new AtomicInteger();

  protected final LockSettings settings;
  protected final LeaseKeeper keeper;
  private final boolean ownsKeeper;
  private final ExecutorService callbackThreads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "fenced-callbacks-" + CALLBACK_THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  /** After close, what is left to deliver runs on the thread that delivers it. */
  private final Executor callbacks =
      task -> {
        try {
          callbackThreads.execute(task);
        } catch (RejectedExecutionException e) {
          task.run();
        }
      };

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
    return Holds.relay(
        Calls.start(() -> doAcquire(name, maxWait)),
        error -> failure(name, maxWait, error),
        LockHandle.class,
        callbacks);
  }

  /**
   * Acquires a checked name. The stage may fail with anything; {@link #failure} maps it for the
   * caller. When the caller gives up first, the stage is cancelled: the acquisition then stops
   * waiting, and a hold it still wins must reach the caller through {@link Holds#handOver}, which
   * gives it back.
   */
  protected abstract CompletionStage<LockHandle> doAcquire(String name, Duration maxWait);

  /**
   * The typed exception the contract promises for {@code error}: a {@link LockException} as it is,
   * what {@link #classify} recognises, otherwise {@link BackendUnavailableException}.
   *
   * @param lockName the lock concerned, or null for the whole service
   * @param maxWait the wait of the acquire that failed, or null outside an acquire
   */
  protected final LockException failure(String lockName, Duration maxWait, Throwable error) {
    Throwable cause = Failures.unwrap(error);
    if (cause instanceof LockException lockException) {
      return lockException;
    }
    LockException specific = classify(lockName, maxWait, cause);
    return specific != null
        ? specific
        : new BackendUnavailableException(backend(), lockName, cause);
  }

  /**
   * What a failure of this backend's client means, where it means more than "unavailable" (a lock
   * timeout the server reports, say); null otherwise. The default recognises nothing.
   *
   * @param maxWait the wait of the acquire that failed, or null outside an acquire
   */
  protected LockException classify(String lockName, Duration maxWait, Throwable cause) {
    return null;
  }

  /**
   * {@code stage} with its failure mapped by {@link #failure}, for the administrative calls of
   * {@link dev.fenced.lock.LockAdmin} ({@link #provision()}, {@link #deprovision}).
   */
  protected final <T> CompletionStage<T> typed(Supplier<? extends CompletionStage<T>> request) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Calls.start(request)
        .whenCompleteAsync(
            (value, error) -> {
              if (error != null) {
                result.completeExceptionally(failure(null, null, error));
              } else {
                result.complete(value);
              }
            },
            callbacks);
    return result;
  }

  /**
   * Where what callers see completes: acquires, releases, losses and the administrative calls. Its
   * own threads, never a timer, event loop or client callback thread, so a caller's continuation
   * that blocks stalls nobody's renewals. Blocking work of a backend (a client without an async
   * API) may run here too.
   */
  protected final Executor callbacks() {
    return callbacks;
  }

  /**
   * Starts renewing a new hold and tracks it until it ends, so {@link #close()} can abandon it.
   * Every backend passes each handle through here before returning it.
   */
  protected final <H extends AbstractLockHandle> H started(H handle) {
    live.add(handle);
    handle.startRenewing(() -> live.remove(handle), callbacks);
    return handle;
  }

  @Override
  public final int liveHolds() {
    return live.size();
  }

  /** The token for this backend's counter value, in this policy's epoch. */
  protected final long token(long counter) {
    return FencingTokens.compose(settings.epoch(), counter);
  }

  @Override
  public final void onIncarnationDoubt(Runnable listener) {
    doubtListeners.add(listener);
  }

  /**
   * Whether anyone acts on {@link #incarnationDoubt()}: a service followed by {@code PolicyLocks}
   * has its epoch raised after an incident; a service used on its own has nobody to raise it.
   */
  protected final boolean incarnationWatched() {
    return !doubtListeners.isEmpty();
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
      callbackThreads.shutdown();
      if (ownsKeeper) {
        keeper.close();
      }
    }
  }

  /** Closes connections without releasing holds. */
  protected abstract void closeBackend();
}
