package dev.fenced.lock;

import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Incarnation;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The administration of one backend's locks: creating and removing what they need there, probing
 * the backend, and keeping its ledger of epochs and the incarnation the service's epoch was set
 * for. It takes no lock.
 *
 * <p>The operator calls it (provisioning, probing, cleanup after a deleted LockPolicy, the epoch
 * record), {@code PolicyLocks} calls it before the first hold on a backend (provisioning, the
 * incarnation check), and readiness checks probe through it. Code that only takes locks is given a
 * {@link LockService} and never needs it.
 *
 * <p>Every backend's service is both; see {@link ManagedLockService}.
 */
public interface LockAdmin {

  /**
   * The backend's name as LockPolicy spells it, e.g. {@code Redis} or {@code Postgres/LockTable}.
   */
  String backend();

  /**
   * Creates what this backend needs (tables, sequences, scripts, base paths). Idempotent; safe to
   * call from several processes at once.
   */
  CompletionStage<Void> provision();

  /**
   * Undoes {@link #provision()} for {@code owner}: unless {@code sharedWithOthers}, removes what
   * provisioning created that can go without letting a later hold get a smaller fencing token
   * (fence counters, sequences and the backend's ledger of epochs stay). Idempotent: removing what
   * is already gone succeeds. The default does nothing.
   *
   * @return whether the shared resources were removed (false when kept for another user or when
   *     there is nothing to remove)
   */
  default CompletionStage<Boolean> deprovision(PolicyRecord owner, boolean sharedWithOthers) {
    return CompletableFuture.completedFuture(false);
  }

  /** Checks that the backend answers, and what it can promise; never throws, reports instead. */
  CompletionStage<BackendProbe> probe();

  /**
   * The backend's ledger: which policies used it at which epoch, and which incarnation of the
   * backend that was. Administrative, like {@link #provision()}: the operator and {@code
   * PolicyLocks} read and write it; holders never need it. Empty for backends that keep nothing
   * outside the process (InProcess, None).
   */
  default Optional<BackendLedger> ledger() {
    return Optional.empty();
  }

  /**
   * The incarnation of the backend that this service's epoch was checked against (by {@code
   * PolicyLocks}, against the policy's status or the ledger). A backend that can tell in the same
   * round trip as an acquire whether it is still that incarnation refuses holds from now on once it
   * is not (Redis: the marker key), instead of granting one before the next check. The default does
   * nothing.
   */
  default void confirmIncarnation(Incarnation incarnation) {}

  /**
   * Tells {@code listener} whenever this service sees a sign that its backend may no longer be the
   * incarnation its epoch was set for (an acquire refused for it, a lock's Lease deleted), so the
   * incarnation is checked at once rather than at the next periodic check. Called on the service's
   * threads; keep it short.
   */
  void onIncarnationDoubt(Runnable listener);
}
