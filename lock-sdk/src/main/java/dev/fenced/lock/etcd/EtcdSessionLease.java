package dev.fenced.lock.etcd;

import dev.fenced.lock.LockLoss;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one etcd lease of a service, shared by all its holds and waiter keys, as jetcd's own lock
 * client keeps one lease per client: a hold then costs two writes (the put-if-absent and the
 * compare-owner delete) instead of four.
 *
 * <p>The lease is granted when the first acquire needs it and kept alive every {@code
 * renewInterval} on the service's {@link dev.fenced.lock.support.LeaseKeeper}, so {@code pause()}
 * stops it as a stop-the-world pause would. When it cannot be kept alive within {@code
 * leaseDuration} (etcd unreachable, a pause), or etcd says it is gone, it is <em>retired</em>:
 * every hold on it is reported lost, every waiter on it queues again, it is revoked, and the next
 * acquire grants a new one. A retired lease is never used again.
 */
final class EtcdSessionLease {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdSessionLease.class);

  /** Something on this lease that must hear when it is retired: a hold or a waiting acquire. */
  interface User {
    void leaseRetired(LockLoss.Reason reason, String detail);
  }

  private final EtcdLockService service;
  private final long id;
  private final long leaseNanos;
  private final Set<User> users = ConcurrentHashMap.newKeySet();

  /** Per lock name, the waiter-key slots of this lease whose key may still exist in etcd. */
  private final Map<String, BitSet> slotsInUse = new HashMap<>();

  private volatile long confirmedSentAt;
  private volatile boolean retired;
  private volatile ScheduledFuture<?> tick;

  EtcdSessionLease(EtcdLockService service, long id, long grantSentAt, long leaseNanos) {
    this.service = service;
    this.id = id;
    this.leaseNanos = leaseNanos;
    this.confirmedSentAt = grantSentAt;
  }

  long id() {
    return id;
  }

  /**
   * {@link System#nanoTime()} when the last grant or keep-alive that etcd confirmed was sent: etcd
   * keeps the lease at least {@code leaseDuration} from there, so a hold counts its lease from it.
   */
  long confirmedSentAt() {
    return confirmedSentAt;
  }

  boolean isRetired() {
    return retired;
  }

  /** Still usable for a new key: not retired and confirmed within the lease. */
  boolean isUsable() {
    return !retired && System.nanoTime() - (confirmedSentAt + leaseNanos) < 0;
  }

  /** Registers a hold or waiter; one that arrives after retirement hears of it at once. */
  void add(User user) {
    users.add(user);
    if (retired) {
      users.remove(user);
      user.leaseRetired(LockLoss.Reason.LEASE_EXPIRED, "the service's etcd lease was retired");
    }
  }

  void remove(User user) {
    users.remove(user);
  }

  /**
   * The lowest slot of {@code name} on this lease that no key occupies: its waiter key, {@code
   * <lease>-<slot>}, is the one that key name the service writes for the lock again and again.
   *
   * <p>Why not a new key name per acquire: etcd keeps every key it ever created in its index until
   * the store is compacted, deleted or not, and the read of a lock's queue visits every one of them
   * under the lock's directory. With a fresh name per acquire that read, and with it every acquire,
   * grew slower with every hold since the last compaction (measured: 6 times the server CPU after
   * 18,000 holds of one name, and without auto-compaction, which etcd leaves off, it never stops).
   * A name written again adds a generation to one index entry instead.
   */
  synchronized int takeSlot(String name) {
    BitSet used = slotsInUse.computeIfAbsent(name, n -> new BitSet());
    int slot = used.nextClearBit(0);
    used.set(slot);
    return slot;
  }

  /**
   * Frees a slot once its key is known to be gone (deleted, or found absent). A slot whose delete
   * had no answer is never given back: a later acquire must not find its old key and take it for
   * its own. The lease's next successor starts with no slot in use.
   */
  synchronized void giveSlot(String name, int slot) {
    BitSet used = slotsInUse.get(name);
    if (used == null) {
      return;
    }
    used.clear(slot);
    if (used.isEmpty()) {
      slotsInUse.remove(name);
    }
  }

  void startKeepingAlive() {
    scheduleTick();
  }

  private void scheduleTick() {
    if (retired || service.isShutDown()) {
      return;
    }
    tick = service.keeper().schedule(this::tick, service.renewIntervalNanos());
  }

  private void tick() {
    if (retired || service.isShutDown()) {
      return;
    }
    if (System.nanoTime() - (confirmedSentAt + leaseNanos) >= 0) {
      retire(
          LockLoss.Reason.LEASE_EXPIRED,
          "the service's etcd lease was not renewed within the lease; another holder may own"
              + " the lock now");
      return;
    }
    if (!service.keeper().isPaused()) {
      keepAlive()
          .whenComplete(
              (alive, error) -> {
                if (error != null) {
                  LOG.debug(
                      "keep-alive of etcd lease {} failed; retrying until the lease ends",
                      Long.toHexString(id),
                      error);
                }
              });
    }
    scheduleTick();
  }

  /**
   * One {@code keepAliveOnce}. Completes with true when etcd extended the lease, false when etcd
   * says it is gone (the lease is then retired), or fails when etcd could not be asked.
   */
  CompletableFuture<Boolean> keepAlive() {
    if (retired) {
      return CompletableFuture.completedFuture(false);
    }
    long sentAt = System.nanoTime();
    return service
        .call(() -> service.client().getLeaseClient().keepAliveOnce(id))
        .handle(
            (LeaseKeepAliveResponse response, Throwable error) -> {
              if (error != null) {
                if (EtcdCalls.isNotFound(error)) {
                  retire(LockLoss.Reason.RENEWAL_REJECTED, "etcd no longer has the lease");
                  return false;
                }
                throw EtcdLockService.asCompletion(error);
              }
              if (response.getTTL() <= 0) {
                retire(LockLoss.Reason.RENEWAL_REJECTED, "etcd no longer has the lease");
                return false;
              }
              if (retired) {
                return false;
              }
              synchronized (this) {
                if (sentAt - confirmedSentAt > 0) {
                  confirmedSentAt = sentAt;
                }
              }
              return true;
            });
  }

  /**
   * Retires the lease for good: later acquires get a new one, every hold on it is reported lost,
   * every waiter queues again, and etcd is asked to revoke it (until it answers) so no key of it
   * lingers.
   */
  void retire(LockLoss.Reason reason, String detail) {
    synchronized (this) {
      if (retired) {
        return;
      }
      retired = true;
    }
    ScheduledFuture<?> t = tick;
    if (t != null) {
      t.cancel(false);
    }
    service.leaseRetired(this);
    if (!users.isEmpty()) {
      LOG.warn(
          "etcd lease {} retired with {} holds and waiters on it: {}",
          Long.toHexString(id),
          users.size(),
          detail);
    }
    for (User user : Set.copyOf(users)) {
      users.remove(user);
      try {
        user.leaseRetired(reason, detail);
      } catch (RuntimeException e) {
        LOG.debug("a user of etcd lease {} failed on retirement", Long.toHexString(id), e);
      }
    }
    if (!service.isShutDown()) {
      service.orphans().revoke(id);
    }
  }

  /** Stops keeping the lease alive without telling anyone (the service is closing). */
  void stop() {
    retired = true;
    ScheduledFuture<?> t = tick;
    if (t != null) {
      t.cancel(false);
    }
  }
}
