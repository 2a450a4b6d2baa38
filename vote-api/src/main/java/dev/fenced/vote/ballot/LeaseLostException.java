package dev.fenced.vote.ballot;

/** The lock's hold ended before the vote could commit; the transaction was rolled back. */
public final class LeaseLostException extends RuntimeException {
  public LeaseLostException(String lockName) {
    super(
        "the hold of lock '" + lockName + "' ended before the vote committed", null, false, false);
  }
}
