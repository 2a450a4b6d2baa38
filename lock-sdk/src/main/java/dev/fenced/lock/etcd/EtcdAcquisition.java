package dev.fenced.lock.etcd;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.Owners;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;

/**
 * One acquire, following etcd's concurrency mutex: take a place in the queue, then wait for the key
 * just ahead to go.
 *
 * <ol>
 *   <li>Grant a lease of the policy's duration; in one transaction put this waiter's key, bound to
 *       the lease, if absent, and read back its create revision.
 *   <li>Look for the key with the next lower create revision in the lock's directory, in a
 *       transaction that also proves this waiter's own key is still there. None: this waiter holds
 *       the lock, and its create revision is the fencing token.
 *   <li>Otherwise watch that one key for deletion (from the revision just read, so a deletion in
 *       between is not missed), and look again when it goes. Waiters are served in create-revision
 *       order, and a release wakes only the next waiter.
 * </ol>
 *
 * <p>While waiting, the waiter's lease is kept alive every {@code renewInterval}. At the deadline
 * the waiter deletes its key and revokes its lease, so it leaves nothing behind. If its key
 * vanished (lease lapsed during a pause or outage), it queues again at the back.
 */
final class EtcdAcquisition {

  private final EtcdLockService service;
  private final String name;
  private final Duration maxWait;
  private final long deadline;
  private final ByteSequence dir;
  private final String ownerId = Owners.newOwnerId();
  private final ByteSequence owner = EtcdKeys.bytes(ownerId);
  private final CompletableFuture<LockHandle> result = new CompletableFuture<>();

  private volatile long leaseId;
  private volatile ByteSequence key;
  private volatile long createRevision;
  private volatile long leaseSentAt;
  private volatile CompletableFuture<Void> wake;
  private volatile ScheduledFuture<?> keepAliveTask;
  private volatile ScheduledFuture<?> deadlineTask;

  EtcdAcquisition(EtcdLockService service, String name, Duration maxWait) {
    this.service = service;
    this.name = name;
    this.maxWait = maxWait;
    this.deadline = System.nanoTime() + maxWait.toNanos();
    this.dir = service.keys().lockDir(name);
  }

  CompletionStage<LockHandle> start() {
    deadlineTask = service.keeper().schedule(this::onDeadline, maxWait.toNanos());
    enqueue();
    return result;
  }

  private boolean expired() {
    return System.nanoTime() - deadline >= 0;
  }

  /**
   * Step 1: a new lease and a new key at the back of the queue; the same transaction reads the
   * first key of the queue, so an uncontended acquire takes two round trips.
   */
  private void enqueue() {
    long sentAt = System.nanoTime();
    GetOption first =
        GetOption.builder()
            .isPrefix(true)
            .withSortField(GetOption.SortTarget.CREATE)
            .withSortOrder(GetOption.SortOrder.ASCEND)
            .withLimit(1)
            .withKeysOnly(true)
            .build();
    service
        .call(() -> service.client().getLeaseClient().grant(service.ttlSeconds()))
        .thenCompose(
            grant -> {
              leaseId = grant.getID();
              leaseSentAt = sentAt;
              key = service.keys().waiterKey(name, leaseId);
              Op get = Op.get(key, GetOption.DEFAULT);
              Op getFirst = Op.get(dir, first);
              return service.call(
                  () ->
                      service
                          .client()
                          .getKVClient()
                          .txn()
                          .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                          .Then(
                              Op.put(key, owner, PutOption.builder().withLeaseId(leaseId).build()),
                              get,
                              getFirst)
                          .Else(get, getFirst)
                          .commit());
            })
        .thenAccept(
            txn -> {
              GetResponse own = txn.getGetResponses().get(0);
              if (own.getKvs().isEmpty()) {
                throw new IllegalStateException("waiter key " + key + " vanished right after put");
              }
              createRevision = own.getKvs().get(0).getCreateRevision();
              if (keepAliveTask == null) {
                scheduleKeepAlive();
              }
              List<KeyValue> head = txn.getGetResponses().get(1).getKvs();
              if (!head.isEmpty() && head.get(0).getCreateRevision() == createRevision) {
                acquired();
              } else {
                check();
              }
            })
        .exceptionally(
            error -> {
              fail(error);
              return null;
            });
  }

  /** Step 2: is anyone ahead of this waiter, and is this waiter still queued? */
  private void check() {
    if (result.isDone()) {
      return;
    }
    ByteSequence ownKey = key;
    long ownRevision = createRevision;
    GetOption ahead =
        GetOption.builder()
            .isPrefix(true)
            .withMaxCreateRevision(ownRevision - 1)
            .withSortField(GetOption.SortTarget.CREATE)
            .withSortOrder(GetOption.SortOrder.DESCEND)
            .withLimit(1)
            .withKeysOnly(true)
            .build();
    service
        .call(
            () ->
                service
                    .client()
                    .getKVClient()
                    .txn()
                    .If(new Cmp(ownKey, Cmp.Op.EQUAL, CmpTarget.createRevision(ownRevision)))
                    .Then(Op.get(dir, ahead))
                    .commit())
        .thenAccept(this::onChecked)
        .exceptionally(
            error -> {
              fail(error);
              return null;
            });
  }

  private void onChecked(TxnResponse txn) {
    if (!txn.isSucceeded()) {
      // Our key is gone: the lease lapsed (a pause, an outage) or someone revoked it.
      service.revokeQuietly(leaseId);
      if (expired()) {
        finishTimedOut();
      } else {
        enqueue();
      }
      return;
    }
    GetResponse ahead = txn.getGetResponses().get(0);
    if (ahead.getKvs().isEmpty()) {
      acquired();
      return;
    }
    if (expired()) {
      giveUp();
      return;
    }
    KeyValue predecessor = ahead.getKvs().get(0);
    waitForDeletion(predecessor.getKey(), txn.getHeader().getRevision() + 1);
  }

  /** Step 3: watch the one key ahead until it is deleted, then look again. */
  private void waitForDeletion(ByteSequence predecessor, long fromRevision) {
    CompletableFuture<Void> signal = new CompletableFuture<>();
    wake = signal;
    Watch.Watcher watcher;
    try {
      watcher =
          service
              .client()
              .getWatchClient()
              .watch(
                  predecessor,
                  WatchOption.builder().withRevision(fromRevision).withNoPut(true).build(),
                  Watch.listener(
                      response -> {
                        for (WatchEvent event : response.getEvents()) {
                          if (event.getEventType() == WatchEvent.EventType.DELETE) {
                            signal.complete(null);
                          }
                        }
                      },
                      error -> signal.complete(null), // look again; a real outage fails there
                      () -> signal.complete(null)));
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    if (expired()) {
      signal.complete(null); // the deadline may have fired before this wait was in place
    }
    signal.whenComplete(
        (v, e) -> {
          watcher.close();
          check();
        });
  }

  private void onDeadline() {
    CompletableFuture<Void> signal = wake;
    if (signal != null) {
      signal.complete(null);
    }
  }

  private void scheduleKeepAlive() {
    keepAliveTask =
        service.keeper().schedule(this::keepWaitingLeaseAlive, service.renewIntervalNanos());
  }

  /** A waiter may wait longer than its lease: keep its place in the queue. */
  private void keepWaitingLeaseAlive() {
    if (result.isDone()) {
      return;
    }
    if (!service.keeper().isPaused()) {
      long id = leaseId;
      long sentAt = System.nanoTime();
      service
          .call(() -> service.client().getLeaseClient().keepAliveOnce(id))
          .whenComplete(
              (response, error) -> {
                if (error == null && response.getTTL() > 0 && id == leaseId) {
                  leaseSentAt = sentAt;
                } else if (error != null && EtcdCalls.isNotFound(error)) {
                  onDeadline(); // wake up: the check will find the key gone and queue again
                }
              });
    }
    scheduleKeepAlive();
  }

  private void stopWaiting() {
    ScheduledFuture<?> keepAlive = keepAliveTask;
    if (keepAlive != null) {
      keepAlive.cancel(false);
    }
    ScheduledFuture<?> timer = deadlineTask;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private void acquired() {
    stopWaiting();
    if (service.isShutDown()) {
      service.revokeQuietly(leaseId);
      result.completeExceptionally(
          new BackendUnavailableException(
              EtcdLockService.BACKEND, name, new IllegalStateException("the lock service closed")));
      return;
    }
    EtcdLockHandle handle =
        new EtcdLockHandle(
            service,
            name,
            service.tokenFor(createRevision),
            ownerId,
            key,
            leaseId,
            service.settings(),
            service.keeper(),
            leaseSentAt);
    result.complete(service.start(handle));
  }

  /** The deadline passed with someone still ahead: leave the queue without a trace. */
  private void giveUp() {
    stopWaiting();
    ByteSequence ownKey = key;
    long id = leaseId;
    service
        .deleteIfOwned(ownKey, owner)
        .handle((txn, error) -> error == null)
        .thenCompose(
            deleted ->
                service
                    .call(() -> service.client().getLeaseClient().revoke(id))
                    .handle(
                        (revoked, error) -> {
                          if (error != null && !EtcdCalls.isNotFound(error)) {
                            service.revokeLater(id);
                          }
                          return null;
                        }))
        .whenComplete((v, e) -> finishTimedOut());
  }

  private void finishTimedOut() {
    stopWaiting();
    result.completeExceptionally(new LockTimeoutException(name, maxWait));
  }

  private void fail(Throwable error) {
    stopWaiting();
    if (leaseId != 0) {
      service.revokeQuietly(leaseId);
    }
    Throwable cause = Failures.unwrap(error);
    result.completeExceptionally(
        cause instanceof LockException
            ? cause
            : new BackendUnavailableException(EtcdLockService.BACKEND, name, cause));
  }
}
