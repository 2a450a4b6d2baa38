package dev.fenced.lock.etcd;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.LeaseKeeper;
import io.etcd.jetcd.ByteSequence;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One hold: the lowest-create-revision key under the lock's directory, bound to its own lease.
 * Renewal is one {@code keepAliveOnce} per tick through the shared handle machinery (so a paused
 * {@link LeaseKeeper} really stops it), followed by a check that the key still carries this owner.
 */
final class EtcdLockHandle extends AbstractLockHandle {

  private final EtcdLockService service;
  private final ByteSequence key;
  private final ByteSequence owner;
  private final long leaseId;

  EtcdLockHandle(
      EtcdLockService service,
      String name,
      long token,
      String ownerId,
      ByteSequence key,
      long leaseId,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAtNanos) {
    super(EtcdLockService.BACKEND, name, token, ownerId, settings, keeper, sentAtNanos);
    this.service = service;
    this.key = key;
    this.owner = EtcdKeys.bytes(ownerId);
    this.leaseId = leaseId;
  }

  long leaseId() {
    return leaseId;
  }

  ByteSequence key() {
    return key;
  }

  @Override
  protected CompletionStage<Boolean> renewOnBackend() {
    return service
        .call(() -> service.client().getLeaseClient().keepAliveOnce(leaseId))
        .handle(
            (response, error) -> {
              if (error != null) {
                if (EtcdCalls.isNotFound(error)) {
                  return false; // revoked or expired on the server: the key went with it
                }
                throw EtcdLockService.asCompletion(error);
              }
              return response.getTTL() > 0;
            })
        .thenCompose(
            alive ->
                alive
                    ? service
                        .call(() -> service.client().getKVClient().get(key))
                        .thenApply(
                            got ->
                                got.getKvs().size() == 1
                                    && got.getKvs().get(0).getValue().equals(owner)
                                    && got.getKvs().get(0).getLease() == leaseId)
                    : CompletableFuture.completedFuture(false));
  }

  @Override
  protected CompletionStage<Boolean> releaseOnBackend() {
    return service
        .deleteIfOwned(key, owner)
        .thenApply(
            txn -> {
              // The key is gone either way now; the lease only keeps the server busy.
              service.revokeQuietly(leaseId);
              return txn.isSucceeded() && txn.getDeleteResponses().get(0).getDeleted() > 0;
            })
        .whenComplete(
            (removed, error) -> {
              if (error != null) {
                service.revokeLater(leaseId);
              }
            });
  }
}
