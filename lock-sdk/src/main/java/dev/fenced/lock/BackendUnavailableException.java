package dev.fenced.lock;

/** The backend could not be reached or failed mid-request. Nothing was acquired. */
public class BackendUnavailableException extends LockException {

  public BackendUnavailableException(String backend, String lockName, Throwable cause) {
    super(
        lockName,
        backend
            + " backend unavailable"
            + (lockName == null ? "" : " while acquiring '" + lockName + "'")
            + ": "
            + describe(cause),
        cause);
  }

  @Override
  public Reason reason() {
    return Reason.BACKEND_UNAVAILABLE;
  }

  /** The innermost useful message of a failure chain. */
  static String describe(Throwable cause) {
    if (cause == null) {
      return "no detail";
    }
    Throwable t = cause;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String message = t.getMessage();
    return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
