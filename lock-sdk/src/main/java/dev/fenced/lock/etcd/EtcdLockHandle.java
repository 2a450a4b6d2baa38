package dev.fenced.lock.etcd;

import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.LeaseKeeper;
import io.etcd.jetcd.ByteSequence;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One hold: the lowest-create-revision key under the lock's directory, bound to the service's
 * shared lease. Renewal is one {@code keepAliveOnce} of that lease per tick through the shared
 * handle machinery (so a paused {@link LeaseKeeper} really stops it), followed by a check that the
 * key still carries this owner. When the service retires the lease, the hold is lost.
 */
final class EtcdLockHandle extends AbstractLockHandle implements EtcdSessionLease.User {

  private final EtcdLockService service;
  private final ByteSequence key;
  private final int slot;
  private final ByteSequence owner;
  private final EtcdSessionLease lease;

  /**
   * @param sentAtNanos when the lease was last confirmed: etcd keeps the key at least a lease from
   *     there, so the local deadline is never later than etcd's
   */
  EtcdLockHandle(
      EtcdLockService service,
      String name,
      long token,
      String ownerId,
      ByteSequence key,
      int slot,
      EtcdSessionLease lease,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAtNanos) {
    super(EtcdLockService.BACKEND, name, token, ownerId, settings, keeper, sentAtNanos);
    this.service = service;
    this.key = key;
    this.slot = slot;
    this.owner = EtcdKeys.bytes(ownerId);
    this.lease = lease;
  }

  long leaseId() {
    return lease.id();
  }

  ByteSequence key() {
    return key;
  }

  @Override
  public void leaseRetired(LockLoss.Reason reason, String detail) {
    markLost(reason, detail);
  }

  @Override
  protected CompletionStage<Boolean> renewOnBackend() {
    return lease
        .keepAlive()
        .thenCompose(
            alive ->
                alive
                    ? service
                        .call(() -> service.client().getKVClient().get(key))
                        .thenApply(
                            got ->
                                got.getKvs().size() == 1
                                    && got.getKvs().get(0).getValue().equals(owner)
                                    && got.getKvs().get(0).getLease() == lease.id())
                    : CompletableFuture.completedFuture(false));
  }

  /** The compare-owner delete; the lease stays, shared with the service's other keys. */
  @Override
  protected CompletionStage<Boolean> releaseOnBackend() {
    return service
        .deleteIfOwned(key, owner)
        .thenApply(txn -> txn.isSucceeded() && txn.getDeleteResponses().get(0).getDeleted() > 0)
        .whenComplete(
            (removed, error) -> {
              if (error != null) {
                service.orphans().deleteLater(key, owner); // its slot stays taken
              } else {
                lease.giveSlot(name(), slot); // the key is gone: the next acquire may write it
              }
            });
  }

  @Override
  protected void onEnded() {
    lease.remove(this);
  }
}
