package dev.fenced.lock;

/** Why an acquire failed. Subclasses name the kind; {@link #reason()} gives it as a value. */
public abstract class LockException extends RuntimeException {

  /** The kinds of acquire failure, e.g. for metrics labels. */
  public enum Reason {
    TIMEOUT,
    BACKEND_UNAVAILABLE,
    POLICY_INVALID,
    INTERRUPTED
  }

  private final String lockName;

  protected LockException(String lockName, String message, Throwable cause) {
    super(message, cause);
    this.lockName = lockName;
  }

  /** The lock the failure concerns, or null when it concerns the whole service. */
  public String lockName() {
    return lockName;
  }

  public abstract Reason reason();
}
