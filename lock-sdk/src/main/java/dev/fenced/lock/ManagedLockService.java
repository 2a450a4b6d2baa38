package dev.fenced.lock;

/**
 * A backend's service whole: the locks ({@link LockService}) and their administration ({@link
 * LockAdmin}) on one client. Every backend is one, and {@code LockServiceFactory} builds one.
 *
 * <p>Whoever builds a service owns it: provisions it, hands it on, and closes it ({@code
 * PolicyLocks}, the operator's backend clients, a benchmark). Hand on the narrow view the receiver
 * needs: {@link LockService} to code that takes locks, {@link LockAdmin} to code that provisions,
 * probes or keeps the ledger.
 */
public interface ManagedLockService extends LockService, LockAdmin {

  /**
   * How many holds of this service are neither released nor lost. Its owner waits for this to reach
   * zero (or for a lease to pass) before closing the service or moving its names to another
   * backend.
   */
  int liveHolds();
}
