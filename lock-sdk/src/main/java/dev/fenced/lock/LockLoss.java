package dev.fenced.lock;

/**
 * Why a hold ended without a release.
 *
 * @param name the lock name
 * @param fencingToken the token of the lost hold, now stale
 * @param reason the kind of loss
 * @param detail a sentence for logs
 */
public record LockLoss(String name, long fencingToken, Reason reason, String detail) {

  /** The kinds of loss. */
  public enum Reason {
    /** No renewal succeeded within the lease: the backend may already have given the lock away. */
    LEASE_EXPIRED,
    /** The backend answered that this client is no longer the owner. */
    RENEWAL_REJECTED,
    /** The session or connection that carried the hold ended (ZooKeeper session, advisory lock). */
    SESSION_ENDED
  }
}
