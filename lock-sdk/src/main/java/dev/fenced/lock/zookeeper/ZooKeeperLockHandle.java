package dev.fenced.lock.zookeeper;

import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.LeaseKeeper;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.KeeperException;

/**
 * One hold: the ephemeral sequential node at {@link #nodePath()}, owned by the ZooKeeper session
 * {@link #sessionId()}.
 *
 * <p>The node's path names this hold and nothing else (the acquisition's random owner id plus a
 * sequence that never repeats under its parent), so deleting it can never remove another holder's
 * node.
 */
final class ZooKeeperLockHandle extends AbstractLockHandle {

  private final ZooKeeperLockService service;
  private final String nodePath;
  private final long sessionId;
  private final AtomicBoolean removalIssued = new AtomicBoolean();

  ZooKeeperLockHandle(
      ZooKeeperLockService service,
      String name,
      long token,
      String ownerId,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAtNanos,
      String nodePath,
      long sessionId) {
    super(ZooKeeperLockService.BACKEND, name, token, ownerId, settings, keeper, sentAtNanos);
    this.service = service;
    this.nodePath = nodePath;
    this.sessionId = sessionId;
  }

  String nodePath() {
    return nodePath;
  }

  long sessionId() {
    return sessionId;
  }

  /**
   * The node still exists, still belongs to the session that created it, and that session is still
   * the client's: then the server had the session alive when the check was sent.
   */
  @Override
  protected CompletionStage<Boolean> renewOnBackend() {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    service
        .exists(nodePath)
        .whenComplete(
            (stat, error) -> {
              if (error != null) {
                result.completeExceptionally(error);
              } else {
                // Also asked over that session: an answer over a newer one says nothing of
                // whether the server still counts the old one as alive.
                result.complete(
                    stat != null
                        && stat.getEphemeralOwner() == sessionId
                        && service.currentSessionId() == sessionId);
              }
            });
    return result;
  }

  /** Deletes this hold's node; completes with false when it was already gone. */
  @Override
  protected CompletionStage<Boolean> releaseOnBackend() {
    removalIssued.set(true);
    return service
        .deleteGuaranteed(nodePath)
        .thenApply(
            code -> {
              if (code == KeeperException.Code.OK) {
                return true;
              }
              if (code == KeeperException.Code.NONODE) {
                return false;
              }
              throw new CompletionException(KeeperException.create(code, nodePath));
            });
  }

  /** The ZooKeeper session behind this hold ended: its node is gone, or going. */
  void sessionEnded(String detail) {
    if (isActive()) {
      markLost(LockLoss.Reason.SESSION_ENDED, detail);
    }
  }

  @Override
  protected void onEnded() {
    service.ended(this);
    // A hold abandoned by close() on a client we do not own would outlive the service: the
    // borrowed session keeps the node alive. Delete it (after release or loss this already ran).
    if (!removalIssued.getAndSet(true)) {
      service.abandoned(nodePath);
    }
  }
}
