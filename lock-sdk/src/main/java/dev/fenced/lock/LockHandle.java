package dev.fenced.lock;

import java.time.Instant;
import java.util.concurrent.CompletionStage;

/**
 * One hold of one lock. Owned by this object, not by a thread: it may be released from any thread
 * or event loop.
 */
public interface LockHandle {

  /** The lock name as given to {@link LockService#acquire(String, java.time.Duration)}. */
  String name();

  /**
   * Strictly larger than the token of every earlier hold of this name. Pass it to the storage you
   * write under this lock (see {@code dev.fenced.lock.fencing}) so a stale holder's writes are
   * rejected.
   */
  long fencingToken();

  /**
   * A random identity of this hold, unique per acquire; the backend records it as the owner, and
   * fenced storage records it next to the token ({@code dev.fenced.lock.fencing.Fence}) so an equal
   * token from another hold is refused. The one exception is the {@code None} backend, whose holds
   * all share one identity: it tells nobody apart, on purpose.
   */
  String ownerId();

  /**
   * When the hold ends unless renewed, as seen by this client: the moment the last successful
   * request was sent plus the lease, so it errs early, never late.
   */
  Instant expiresAt();

  /** True while the hold is neither released nor lost and its lease has not lapsed locally. */
  boolean isHeld();

  /**
   * Completes when the hold is lost: the lease lapsed without a successful renewal, the backend
   * refused a renewal (another holder took over), or the session behind it ended. Never completes
   * after a normal {@link #release()}.
   */
  CompletionStage<LockLoss> lost();

  /**
   * Releases the hold. Completes with {@link ReleaseResult#RELEASED} when this hold was removed, or
   * {@link ReleaseResult#NOT_HELD} when it was already released or lost; in that case nothing that
   * belongs to another holder is touched. Fails only when the backend cannot be reached, and then
   * the lease ends the hold.
   */
  CompletionStage<ReleaseResult> release();
}
