package dev.fenced.lock.fencing;

/** Storage refused a write: a holder with a newer fencing token has written since. */
public class StaleFenceException extends RuntimeException {

  private final long token;

  public StaleFenceException(String store, long token) {
    super(
        "write to "
            + store
            + " rejected: fencing token "
            + token
            + " is older than the one already stored (a newer holder took over)");
    this.token = token;
  }

  public long token() {
    return token;
  }
}
