package dev.fenced.lock.sql;

/** The hold ended before its transaction could commit; nothing of the transaction was kept. */
public final class HoldLostException extends RuntimeException {

  private final String lockName;

  public HoldLostException(String lockName) {
    super(
        "the hold of lock '"
            + lockName
            + "' ended before its transaction committed; nothing of it"
            + " was kept",
        null,
        false,
        false);
    this.lockName = lockName;
  }

  /** The lock whose hold ended. */
  public String lockName() {
    return lockName;
  }
}
