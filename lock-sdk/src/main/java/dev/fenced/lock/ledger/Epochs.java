package dev.fenced.lock.ledger;

/**
 * The rules that decide a policy's fencing epoch on a backend, from what the policy says, what the
 * backend's {@link Ledger} records and which {@link Incarnation} the backend is in now. Pure
 * functions; the operator uses {@link #forOperator}, services that read policies from files (no
 * operator) use {@link #forDirectory}.
 *
 * <p>A larger epoch is always safe and a smaller one never is, so every doubt raises it.
 */
public final class Epochs {

  private Epochs() {}

  /**
   * An epoch and why it is what it is.
   *
   * @param epoch the epoch to use
   * @param raised whether it is above the one the caller used so far
   * @param reason one sentence for people: why it rose, or null when it did not
   * @param incident whether the backend changed incarnation (a failover, a restart that lost data,
   *     a restore, a re-created base path or Lease)
   */
  public record Decision(long epoch, boolean raised, String reason, boolean incident) {}

  /**
   * What an operator decides for a policy, given its status and the backend as found now.
   *
   * <ul>
   *   <li>A policy without an epoch (new, or deleted and created again, or moved from another
   *       namespace) starts above every epoch the backend's ledger records: {@code floor + 1}, at
   *       least 1.
   *   <li>A status epoch without a recorded backend identity, or with another identity (the backend
   *       moved), is raised by one.
   *   <li>On the same backend: if the backend is no longer the incarnation the status (or the
   *       ledger) recorded, or its progress counter went back below {@code seenProgress}, the epoch
   *       rises above both the status's and the ledger's; otherwise it stays (or catches up with
   *       the ledger's entry for this policy, which is never above it unless status was lost).
   * </ul>
   *
   * @param statusIdentity the backend identity the status recorded, or null
   * @param statusIncarnation the {@link Incarnation#id()} the status recorded, or null
   * @param seenProgress the highest progress of this incarnation the caller has seen, or -1
   */
  public static Decision forOperator(
      Long statusEpoch,
      String statusIdentity,
      String statusIncarnation,
      String identity,
      Ledger ledger,
      String policy,
      Incarnation now,
      long seenProgress) {
    if (statusEpoch == null || statusEpoch < 1) {
      long floor = ledger.floor();
      return new Decision(
          floor + 1,
          true,
          floor == 0
              ? "first epoch on this backend"
              : "a new policy starts above epoch " + floor + ", the highest the backend records",
          false);
    }
    if (statusIdentity == null) {
      return new Decision(
          statusEpoch + 1, true, "the status had an epoch but no backend identity", false);
    }
    if (!statusIdentity.equals(identity)) {
      return new Decision(
          statusEpoch + 1, true, "the backend changed from " + statusIdentity, false);
    }
    LedgerEntry entry = ledger.entry(policy).orElse(null);
    long known = Math.max(statusEpoch, entry == null ? 0 : entry.epoch());
    String incident = null;
    if (statusIncarnation != null && !statusIncarnation.equals(now.id())) {
      incident = "the backend was " + statusIncarnation + ", is now " + now.id();
    } else if (statusIncarnation == null && entry != null && !entry.recorded(now)) {
      incident = "the backend was " + entry.incarnationOf() + ", is now " + now;
    } else if (seenProgress >= 0 && now.progress() >= 0 && now.progress() < seenProgress) {
      incident =
          "the backend's progress went back from "
              + seenProgress
              + " to "
              + now.progress()
              + " (restored from an older copy?)";
    } else if (entry != null
        && entry.progress() >= 0
        && now.progress() >= 0
        && now.progress() < entry.progress()) {
      incident =
          "the backend's progress "
              + now.progress()
              + " is below the "
              + entry.progress()
              + " recorded when the epoch was adopted (restored from an older copy?)";
    }
    if (incident != null) {
      return new Decision(known + 1, true, "backend incident: " + incident, true);
    }
    if (known > statusEpoch) {
      return new Decision(
          known, true, "the backend's ledger records epoch " + known + " for this policy", false);
    }
    return new Decision(statusEpoch, false, null, false);
  }

  /**
   * What a service that reads its policy from a file decides, with no operator to ask: the file's
   * epoch, unless the ledger or this process knows a higher one, plus one when the backend changed
   * incarnation since the ledger (or this process) adopted it. Every service of the family applies
   * the same rule to the same ledger under compare-and-set, so they agree on one epoch.
   *
   * @param fileEpoch the epoch the policy file says ({@code locks.fenced.dev/epoch})
   * @param previous what this process adopted before on this backend, or null
   */
  public static Decision forDirectory(
      long fileEpoch, Ledger ledger, String policy, Incarnation now, Adopted previous) {
    LedgerEntry entry = ledger.entry(policy).orElse(null);
    long before = previous == null ? fileEpoch : previous.epoch();
    long epoch;
    String reason = null;
    boolean incident = false;
    if (entry == null) {
      long floor = ledger.floor();
      epoch = Math.max(fileEpoch, ledger.entries().isEmpty() ? 0 : floor + 1);
      if (epoch > fileEpoch) {
        reason = "a new policy starts above epoch " + floor + ", the highest the backend records";
      }
    } else if (entry.recorded(now)) {
      epoch = Math.max(fileEpoch, entry.epoch());
      if (epoch > fileEpoch) {
        reason = "the backend's ledger records epoch " + entry.epoch() + " for this policy";
      }
    } else {
      epoch = Math.max(fileEpoch, entry.epoch() + 1);
      incident = true;
      reason = "backend incident: the backend was " + entry.incarnationOf() + ", is now " + now;
    }
    if (previous != null) {
      if (previous.incarnation().replacedBy(now) && epoch <= previous.epoch()) {
        epoch = previous.epoch() + 1;
        incident = true;
        reason =
            "backend incident seen by this process: the backend was "
                + previous.incarnation()
                + ", is now "
                + now;
      } else if (epoch < previous.epoch()) {
        epoch = previous.epoch();
      }
    }
    return new Decision(epoch, epoch > before, reason, incident);
  }

  /** An incarnation a process adopted, and the epoch it adopted it at. */
  public record Adopted(Incarnation incarnation, long epoch) {}
}
