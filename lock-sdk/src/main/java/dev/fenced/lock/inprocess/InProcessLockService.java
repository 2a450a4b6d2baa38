package dev.fenced.lock.inprocess;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.AcquireLoop;
import dev.fenced.lock.support.AcquireLoop.Attempt;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Owners;
import dev.fenced.lock.support.Waiters;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one-room lock: exclusion among everyone in this JVM, nothing beyond it.
 *
 * <p>All services of this class in one JVM share one table of holds, so two services (say, before
 * and after a policy reload) exclude each other. Leases still apply: a holder that stops renewing
 * (a pause) loses the lock to the next caller after its lease, as with every other backend.
 *
 * <p>Tokens come from one JVM-wide counter seeded with the wall clock in milliseconds at class
 * load, so a restarted process continues above the previous one unless the clock stepped back or
 * the old process took more than one hold per millisecond on average. It is correct for one replica
 * only.
 */
public final class InProcessLockService extends AbstractLockService {

  public static final String BACKEND = "InProcess";

  private static final ConcurrentHashMap<String, Slot> SLOTS = new ConcurrentHashMap<>();
  private static final AtomicLong COUNTER = new AtomicLong(System.currentTimeMillis());
  private static final Waiters WAITERS = new Waiters();

  public InProcessLockService(LockSettings settings, LeaseKeeper keeper) {
    super(settings, keeper);
  }

  public InProcessLockService(LockSettings settings) {
    this(settings, null);
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    Slot slot = SLOTS.computeIfAbsent(name, n -> new Slot());
    return AcquireLoop.run(
        name,
        maxWait,
        keeper,
        WAITERS,
        Duration.ofSeconds(1),
        () -> CompletableFuture.completedFuture(tryAcquire(name, slot)));
  }

  private Attempt<LockHandle> tryAcquire(String name, Slot slot) {
    long now = System.nanoTime();
    synchronized (slot) {
      if (slot.owner != null && slot.expiresAtNanos - now > 0) {
        return Attempt.busy(slot.expiresAtNanos - now);
      }
      String owner = Owners.newOwnerId();
      slot.owner = owner;
      slot.leaseNanos = settings.leaseDuration().toNanos();
      slot.expiresAtNanos = now + slot.leaseNanos;
      Handle handle = new Handle(name, token(COUNTER.incrementAndGet()), owner, slot, now);
      return Attempt.acquired(started(handle));
    }
  }

  @Override
  public CompletionStage<Void> provision() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<BackendProbe> probe() {
    return CompletableFuture.completedFuture(
        BackendProbe.up(
            BACKEND, Duration.ZERO, false, "in this JVM only; tokens restart from the clock"));
  }

  @Override
  protected void closeBackend() {}

  private static final class Slot {
    String owner;
    long leaseNanos;
    long expiresAtNanos;
  }

  private final class Handle extends AbstractLockHandle {
    private final Slot slot;

    Handle(String name, long token, String owner, Slot slot, long sentAt) {
      super(BACKEND, name, token, owner, settings, keeper, sentAt);
      this.slot = slot;
    }

    @Override
    protected CompletionStage<Boolean> renewOnBackend() {
      long now = System.nanoTime();
      synchronized (slot) {
        boolean ours = ownerId().equals(slot.owner) && slot.expiresAtNanos - now > 0;
        if (ours) {
          slot.expiresAtNanos = now + slot.leaseNanos;
        }
        return CompletableFuture.completedFuture(ours);
      }
    }

    @Override
    protected CompletionStage<Boolean> releaseOnBackend() {
      boolean removed;
      synchronized (slot) {
        removed = ownerId().equals(slot.owner);
        if (removed) {
          slot.owner = null;
        }
      }
      if (removed) {
        WAITERS.wake(name());
      }
      return CompletableFuture.completedFuture(removed);
    }
  }
}
