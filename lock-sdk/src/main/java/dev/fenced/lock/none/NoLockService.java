package dev.fenced.lock.none;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * No exclusion at all: every acquire succeeds at once. It exists to show the race a lock prevents.
 *
 * <p>Its token is always the first of its epoch (counter 0) and every hold has the same owner
 * identity ({@value #OWNER}): it tells no holder from another, so fenced storage (which accepts an
 * equal token from the same holder) accepts every write and the lost updates stay visible instead
 * of turning into rejected writes. A policy with this backend must therefore say {@code fencing:
 * Optional}.
 */
public final class NoLockService extends AbstractLockService {

  public static final String BACKEND = "None";

  /** The owner identity of every hold: without exclusion there is no holder to tell apart. */
  public static final String OWNER = "none";

  public NoLockService(LockSettings settings, LeaseKeeper keeper) {
    super(settings, keeper);
  }

  public NoLockService(LockSettings settings) {
    this(settings, null);
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    return CompletableFuture.completedFuture(started(new Handle(name, System.nanoTime())));
  }

  @Override
  public CompletionStage<Void> provision() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<BackendProbe> probe() {
    return CompletableFuture.completedFuture(
        BackendProbe.up(BACKEND, Duration.ZERO, false, "no lock: exclusion is not provided"));
  }

  @Override
  protected void closeBackend() {}

  private final class Handle extends AbstractLockHandle {
    Handle(String name, long sentAt) {
      super(BACKEND, name, token(0), OWNER, settings, keeper, sentAt);
    }

    @Override
    protected CompletionStage<Boolean> renewOnBackend() {
      return CompletableFuture.completedFuture(true);
    }

    @Override
    protected CompletionStage<Boolean> releaseOnBackend() {
      return CompletableFuture.completedFuture(true);
    }
  }
}
