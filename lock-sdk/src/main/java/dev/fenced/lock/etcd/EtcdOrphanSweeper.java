package dev.fenced.lock.etcd;

import io.etcd.jetcd.ByteSequence;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service left on etcd that nobody will clean up by themselves: leases it no longer uses and
 * waiter keys of acquires that ended without a hold. Each is removed at once; when etcd cannot be
 * reached it is remembered and retried every {@value #RETRY_MILLIS} ms on the service's timer until
 * etcd answers (or for at most ten minutes).
 *
 * <p>Why bother: a waiter key lives as long as the service's lease, so a forgotten one would block
 * its lock for as long as the service lives; and after an outage etcd extends every lease by a full
 * TTL, so a lost hold's lease revoked as soon as etcd is back frees its keys a lease earlier.
 */
final class EtcdOrphanSweeper {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdOrphanSweeper.class);
  private static final long RETRY_MILLIS = 250;
  private static final long GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(10);

  private final EtcdLockService service;

  /** Leases whose revoke failed (etcd unreachable), by when it first failed. */
  private final Map<Long, Long> leases = new ConcurrentHashMap<>();

  /** Keys whose compare-owner delete failed (etcd unreachable): key, owner, first failure. */
  private final Map<ByteSequence, StaleKey> keys = new ConcurrentHashMap<>();

  private final Set<Long> revoking = ConcurrentHashMap.newKeySet();
  private final Set<ByteSequence> deleting = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  private record StaleKey(ByteSequence owner, long since) {}

  EtcdOrphanSweeper(EtcdLockService service) {
    this.service = service;
  }

  /** Revokes a lease that is no longer needed; if etcd cannot be reached, keeps trying. */
  void revoke(long leaseId) {
    service
        .call(() -> service.client().getLeaseClient().revoke(leaseId))
        .whenComplete(
            (r, error) -> {
              if (error != null && !EtcdCalls.isNotFound(error)) {
                revokeLater(leaseId);
              }
            });
  }

  /**
   * Remembers a lease whose revoke failed and retries until etcd answers. After an outage this
   * frees a lost hold's key as soon as etcd is back, instead of a full lease after its restart.
   */
  void revokeLater(long leaseId) {
    if (service.isShutDown()) {
      return;
    }
    leases.putIfAbsent(leaseId, System.nanoTime());
    schedule();
  }

  /**
   * Deletes {@code key} (compare-owner) now, and if etcd cannot be reached keeps trying until it
   * answers. Completes with true when etcd answered at once (the key is gone or was never {@code
   * owner}'s), false when the delete goes on in the background.
   */
  CompletableFuture<Boolean> delete(ByteSequence key, ByteSequence owner) {
    return service
        .deleteIfOwned(key, owner)
        .handle(
            (txn, error) -> {
              if (error != null) {
                deleteLater(key, owner);
                return false;
              }
              return true;
            });
  }

  /** Remembers a key whose compare-owner delete failed and retries until etcd answers. */
  void deleteLater(ByteSequence key, ByteSequence owner) {
    if (service.isShutDown()) {
      return;
    }
    keys.putIfAbsent(key, new StaleKey(owner, System.nanoTime()));
    schedule();
  }

  /** Forgets everything: the service is closing and its lease goes with it. */
  void clear() {
    leases.clear();
    keys.clear();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      service.keeper().schedule(this::sweep, TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS));
    }
  }

  private void sweep() {
    scheduled.set(false);
    if (service.isShutDown() || (leases.isEmpty() && keys.isEmpty())) {
      return;
    }
    long now = System.nanoTime();
    for (Map.Entry<ByteSequence, StaleKey> stale : keys.entrySet()) {
      ByteSequence key = stale.getKey();
      if (now - stale.getValue().since() > GIVE_UP_NANOS) {
        keys.remove(key);
        continue;
      }
      if (!deleting.add(key)) {
        continue; // the previous try is still under way
      }
      service
          .deleteIfOwned(key, stale.getValue().owner())
          .whenComplete(
              (txn, error) -> {
                deleting.remove(key);
                if (error == null) {
                  keys.remove(key);
                } else {
                  schedule();
                }
              });
    }
    for (Map.Entry<Long, Long> orphan : leases.entrySet()) {
      long leaseId = orphan.getKey();
      if (now - orphan.getValue() > GIVE_UP_NANOS) {
        leases.remove(leaseId);
        continue;
      }
      if (!revoking.add(leaseId)) {
        continue;
      }
      service
          .call(() -> service.client().getLeaseClient().revoke(leaseId))
          .whenComplete(
              (r, error) -> {
                revoking.remove(leaseId);
                if (error == null || EtcdCalls.isNotFound(error)) {
                  leases.remove(leaseId);
                  LOG.debug("revoked lease {} of an earlier hold", Long.toHexString(leaseId));
                } else {
                  revokeLater(leaseId);
                }
              });
    }
  }
}
