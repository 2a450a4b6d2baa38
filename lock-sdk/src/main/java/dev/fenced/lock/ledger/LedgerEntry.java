package dev.fenced.lock.ledger;

/**
 * What a backend's ledger keeps about one LockPolicy that used it.
 *
 * @param uid the policy's {@code metadata.uid}; empty for a policy read from a file
 * @param backend the backend as the policy used it ({@code LockService#backend()}, e.g. {@code
 *     Postgres/LockTable}): one ledger can serve several (the Postgres modes of one database)
 * @param generation the {@code metadata.generation} last recorded
 * @param epoch the fencing epoch the policy last used on this backend
 * @param incarnation the {@link Incarnation#id()} of the backend when that epoch was adopted
 * @param progress the incarnation's progress counter then, or -1
 * @param retired whether the policy is gone (deleted, or moved away); its epoch still counts
 */
public record LedgerEntry(
    String uid,
    String backend,
    long generation,
    long epoch,
    String incarnation,
    long progress,
    boolean retired) {

  public LedgerEntry {
    uid = uid == null ? "" : uid;
    backend = backend == null ? "" : backend;
    incarnation = incarnation == null ? "" : incarnation;
    if (generation < 0 || epoch < 0) {
      throw new IllegalArgumentException(
          "generation and epoch must not be negative, were " + generation + " and " + epoch);
    }
  }

  /** The entry of a policy adopting {@code incarnation} at {@code epoch}. */
  public static LedgerEntry adopted(
      String uid, String backend, long generation, long epoch, Incarnation incarnation) {
    return new LedgerEntry(
        uid, backend, generation, epoch, incarnation.id(), incarnation.progress(), false);
  }

  public LedgerEntry retire() {
    return new LedgerEntry(uid, backend, generation, epoch, incarnation, progress, true);
  }

  /** Whether this entry recorded {@code now} (same id, progress not gone back). */
  public boolean recorded(Incarnation now) {
    return !incarnationOf().replacedBy(now);
  }

  /** The recorded incarnation, with its progress, for comparisons. */
  Incarnation incarnationOf() {
    return new Incarnation(incarnation.isEmpty() ? "none" : incarnation, progress, "recorded");
  }
}
