package dev.fenced.lock.etcd;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.Holds;
import dev.fenced.lock.support.Owners;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;

/**
 * One acquire, following etcd's concurrency mutex: take a place in the queue, then wait for the
 * keys ahead to go.
 *
 * <ol>
 *   <li>In one transaction put this waiter's key, bound to the service's shared lease (granted
 *       first if there is none), if absent, and read back its create revision together with the
 *       newest keys of the lock's directory (up to {@link #TRACKED} ahead) and their count. The key
 *       is named after the lease and the lowest free slot of the lock on it ({@link
 *       EtcdSessionLease#takeSlot}), so a service writes the same few key names for a lock over and
 *       over; the value is this acquire's owner id. A new key has the highest create revision of
 *       the directory, so the keys below it are the ones ahead. None: this waiter holds the lock,
 *       and its create revision is the fencing token.
 *   <li>Otherwise wait on the service's one watch of the lock's directory ({@link
 *       EtcdQueueWatches}) for those keys to be deleted. The deletion of the last of them makes
 *       this waiter the holder at that revision, with no read after it: no key can ever be created
 *       below this waiter's create revision, and the watch delivers deletions in revision order, so
 *       a deletion of this waiter's own key (a lease revoked elsewhere) is seen first and sends it
 *       back to the queue instead. A hand-off costs the release's write and its event.
 *   <li>With more than {@link #TRACKED} ahead, wait for the nearest only, then look again, in a
 *       transaction that also proves this waiter's own key is still there. Waiters are served in
 *       create-revision order.
 * </ol>
 *
 * <p>While waiting, the service keeps the lease alive. At the deadline the waiter deletes its key,
 * so it leaves nothing behind (the lease outlives it). If its key vanished, or the service retired
 * the lease (not kept alive within the lease), it deletes what may be left and queues again at the
 * back on a new lease.
 */
final class EtcdAcquisition implements EtcdSessionLease.User {

  /**
   * How many keys ahead a waiter reads and follows: with at most this many ahead, the deletion of
   * the last of them makes it the holder without a read; with more, it follows the nearest and
   * looks again when that goes.
   */
  static final int TRACKED = 32;

  private final EtcdLockService service;
  private final String name;
  private final Duration maxWait;
  private final long deadline;
  private final ByteSequence dir;
  private final String ownerId = Owners.newOwnerId();
  private final ByteSequence owner = EtcdKeys.bytes(ownerId);
  private final CompletableFuture<LockHandle> result = new CompletableFuture<>();

  private volatile EtcdSessionLease lease;
  private volatile ByteSequence key;
  private volatile int slot;
  private volatile long createRevision;
  private volatile CompletableFuture<Boolean> wake;
  private volatile ScheduledFuture<?> deadlineTask;
  private volatile boolean won;

  EtcdAcquisition(EtcdLockService service, String name, Duration maxWait) {
    this.service = service;
    this.name = name;
    this.maxWait = maxWait;
    this.deadline = System.nanoTime() + maxWait.toNanos();
    this.dir = service.keys().lockDir(name);
  }

  CompletionStage<LockHandle> start() {
    deadlineTask = service.keeper().schedule(this::onDeadline, maxWait.toNanos());
    // The caller may give up before the deadline (a cancel, a timeout of its own): look again now,
    // and the check finds the result done and leaves the queue.
    result.whenComplete((handle, error) -> onDeadline());
    enqueue();
    return result;
  }

  private boolean expired() {
    return System.nanoTime() - deadline >= 0;
  }

  /**
   * Step 1: a new key at the back of the queue, on the service's lease; the same transaction reads
   * the two newest keys of the queue (this one and the one ahead) and how many there are, so an
   * uncontended acquire takes one round trip (one write) once the service has its lease, and a
   * contended one goes straight to waiting.
   */
  private void enqueue() {
    GetOption newest =
        GetOption.builder()
            .isPrefix(true)
            .withSortField(GetOption.SortTarget.CREATE)
            .withSortOrder(GetOption.SortOrder.DESCEND)
            .withLimit(TRACKED + 1)
            .withKeysOnly(true)
            .build();
    service
        .lease()
        .thenCompose(
            granted -> {
              lease = granted;
              granted.add(this);
              long leaseId = granted.id();
              slot = granted.takeSlot(name);
              key = service.keys().waiterKey(name, leaseId, slot);
              Op get = Op.get(key, GetOption.DEFAULT);
              Op getNewest = Op.get(dir, newest);
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
                              getNewest)
                          .Else(get, getNewest)
                          .commit());
            })
        .thenAccept(
            txn -> {
              GetResponse own = txn.getGetResponses().get(0);
              if (own.getKvs().isEmpty()) {
                throw new IllegalStateException("waiter key " + key + " vanished right after put");
              }
              if (!own.getKvs().get(0).getValue().equals(owner)) {
                // Someone else's key in this slot (nothing of this service leaves one behind, but
                // etcd is shared): leave it and its slot alone and queue under another slot.
                key = null;
                if (expired()) {
                  finishTimedOut();
                } else {
                  enqueue();
                }
                return;
              }
              createRevision = own.getKvs().get(0).getCreateRevision();
              GetResponse queue = txn.getGetResponses().get(1);
              List<KeyValue> keys = queue.getKvs();
              if (!txn.isSucceeded()
                  || keys.isEmpty()
                  || keys.get(0).getCreateRevision() != createRevision) {
                check(); // this key was there already (not the newest): look at the queue
              } else if (queue.getCount() == 1) {
                acquired();
              } else if (expired()) {
                giveUp();
              } else {
                waitFor(
                    keys.subList(1, keys.size()), !queue.isMore(), txn.getHeader().getRevision());
              }
            })
        .exceptionally(
            error -> {
              EtcdSessionLease used = lease;
              if (used != null && EtcdCalls.isNotFound(error)) {
                // etcd no longer has the lease (expired, revoked elsewhere): never use it again.
                used.retire(LockLoss.Reason.RENEWAL_REJECTED, "etcd no longer has the lease");
                requeue();
              } else {
                fail(error);
              }
              return null;
            });
  }

  /**
   * Leaves the queue (deleting the key if it may still be there) and joins it again, or times out.
   */
  private void requeue() {
    if (result.isDone()) {
      abandon();
      return;
    }
    EtcdSessionLease used = lease;
    if (used != null) {
      used.remove(this);
    }
    dropKey();
    if (expired()) {
      finishTimedOut();
    } else {
      enqueue();
    }
  }

  @Override
  public void leaseRetired(LockLoss.Reason reason, String detail) {
    onDeadline(); // wake up: the check finds the lease retired and queues again
  }

  /** Step 2: is anyone ahead of this waiter, and is this waiter still queued? */
  private void check() {
    if (result.isDone()) {
      abandon();
      return;
    }
    if (lease.isRetired()) {
      requeue();
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
            .withLimit(TRACKED)
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
      // Our key is gone: the lease lapsed (a pause, an outage) or someone deleted it.
      requeue();
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
    waitFor(ahead.getKvs(), !ahead.isMore(), txn.getHeader().getRevision());
  }

  /**
   * Steps 2 and 3: wait, on the service's watch of the lock's directory ({@link EtcdQueueWatches}),
   * for the deletion of the keys ahead as read at revision {@code readAt} ({@code ahead}, newest
   * first). When they are {@code all} there were (at most {@link #TRACKED}), the deletion of the
   * last of them (with this waiter's own key still there) makes this waiter the holder: no key can
   * be created below its create revision. Otherwise it waits for the nearest and looks again; and
   * on any other wake-up (the watch ending, the deadline, a retired lease, the caller giving up,
   * its own key deleted) it looks again.
   */
  private void waitFor(List<KeyValue> ahead, boolean all, long readAt) {
    Waiting waiting =
        new Waiting(key, createRevision, all ? ahead : ahead.subList(0, 1), all, readAt);
    wake = waiting.signal;
    service.queueWatches().join(dir, waiting);
    if (expired() || lease.isRetired() || result.isDone()) {
      waiting.signal.complete(false); // the deadline, a retirement or the caller came first
    }
    waiting.signal.whenComplete(
        (head, e) -> {
          service.queueWatches().leave(dir, waiting);
          if (Boolean.TRUE.equals(head) && !result.isDone()) {
            acquired(); // gives the hold back to the queue if the lease went meanwhile
          } else {
            check();
          }
        });
  }

  /**
   * One wait: the keys ahead still to go, and whether the watch's deletions can be trusted yet (the
   * watch was created at the revision of the read, or a read after the waiter joined found its own
   * key and as many keys ahead as it waits for). Deletions at or before the read are of earlier
   * keys of the same names (slots are used again) and are ignored; the first deletion of a name
   * after the read is that of the key read.
   */
  private final class Waiting implements EtcdQueueWatches.Waiter {
    final CompletableFuture<Boolean> signal = new CompletableFuture<>();
    final ByteSequence ownKey;
    final long ownRevision;
    final Set<ByteSequence> ahead = new HashSet<>();
    final List<KeyValue> waitedFor;
    final boolean all;
    final long readAt;
    private boolean verified;
    private boolean ownGone;

    Waiting(ByteSequence ownKey, long ownRevision, List<KeyValue> ahead, boolean all, long readAt) {
      this.ownKey = ownKey;
      this.ownRevision = ownRevision;
      ahead.forEach(kv -> this.ahead.add(kv.getKey()));
      this.waitedFor = List.copyOf(ahead);
      this.all = all;
      this.readAt = readAt;
    }

    @Override
    public long readAt() {
      return readAt;
    }

    @Override
    public synchronized void deleted(List<WatchEvent> events) {
      for (WatchEvent event : events) {
        if (event.getEventType() == WatchEvent.EventType.DELETE
            && event.getKeyValue().getModRevision() > readAt) {
          ByteSequence gone = event.getKeyValue().getKey();
          ownGone |= gone.equals(ownKey);
          ahead.remove(gone);
        }
      }
      decide();
    }

    /**
     * Own key and every key waited for still there, with the create revisions read: none of them
     * went before the waiter joined, so the watch has every deletion still to come.
     */
    @Override
    public void check() {
      List<Cmp> intact = new ArrayList<>();
      intact.add(new Cmp(ownKey, Cmp.Op.EQUAL, CmpTarget.createRevision(ownRevision)));
      for (KeyValue kv : waitedFor) {
        intact.add(
            new Cmp(kv.getKey(), Cmp.Op.EQUAL, CmpTarget.createRevision(kv.getCreateRevision())));
      }
      service
          .call(() -> service.client().getKVClient().txn().If(intact.toArray(Cmp[]::new)).commit())
          .whenComplete((txn, error) -> verified(error == null && txn.isSucceeded()));
    }

    @Override
    public void trusted() {
      verified(true);
    }

    @Override
    public void ended() {
      signal.complete(false);
    }

    /** {@code intact}: false sends the waiter to look again. */
    private synchronized void verified(boolean intact) {
      if (!intact) {
        signal.complete(false);
        return;
      }
      verified = true;
      decide();
    }

    private void decide() {
      if (!verified) {
        return;
      }
      if (ownGone) {
        signal.complete(false); // the check finds the key gone and queues again
      } else if (ahead.isEmpty()) {
        signal.complete(all);
      }
    }
  }

  private void onDeadline() {
    CompletableFuture<Boolean> signal = wake;
    if (signal != null) {
      signal.complete(false);
    }
  }

  private void stopWaiting() {
    EtcdSessionLease used = lease;
    if (used != null) {
      used.remove(this);
    }
    ScheduledFuture<?> timer = deadlineTask;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private void acquired() {
    if (lease.isRetired() && !service.isShutDown()) {
      requeue(); // the lease went while the key was put: the hold may already be gone
      return;
    }
    stopWaiting();
    if (service.isShutDown()) {
      dropKey();
      result.completeExceptionally(new IllegalStateException("the lock service closed"));
      return;
    }
    EtcdLockHandle handle =
        new EtcdLockHandle(
            service,
            name,
            service.tokenFor(createRevision),
            ownerId,
            key,
            slot,
            lease,
            service.settings(),
            service.keeper(),
            lease.confirmedSentAt());
    won = true;
    service.start(handle);
    lease.add(handle);
    Holds.handOver(result, handle); // a caller that gave up meanwhile gets it released
  }

  /** The caller stopped waiting: leave the queue without a trace, unless the hold was won. */
  private void abandon() {
    if (won) {
      return;
    }
    stopWaiting();
    dropKey();
  }

  /**
   * Deletes this acquire's key if it wrote one (compare owner, retried in the background while etcd
   * cannot be reached), and frees its slot once etcd confirms the key is gone. Completes when etcd
   * answered the first delete or the retries took it over.
   */
  private CompletableFuture<Void> dropKey() {
    ByteSequence written = takeKey();
    EtcdSessionLease on = lease;
    int used = slot;
    if (written == null) {
      return CompletableFuture.completedFuture(null);
    }
    return service
        .orphans()
        .delete(written, owner)
        .thenAccept(
            gone -> {
              if (gone) {
                on.giveSlot(name, used);
              }
            });
  }

  /** This acquire's key, once: whoever deletes it frees its slot, and only one may. */
  private synchronized ByteSequence takeKey() {
    ByteSequence written = key;
    key = null;
    return written;
  }

  /** The deadline passed with someone still ahead: leave the queue without a trace. */
  private void giveUp() {
    stopWaiting();
    dropKey().whenComplete((v, error) -> finishTimedOut());
  }

  private void finishTimedOut() {
    stopWaiting();
    result.completeExceptionally(new LockTimeoutException(name, maxWait));
  }

  private void fail(Throwable error) {
    stopWaiting();
    dropKey(); // the put may have landed though its answer did not
    result.completeExceptionally(Failures.unwrap(error));
  }
}
