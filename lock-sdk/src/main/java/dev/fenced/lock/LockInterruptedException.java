package dev.fenced.lock;

/** A blocking wait was interrupted. Whether the acquire went through is not known to the caller. */
public class LockInterruptedException extends LockException {

  public LockInterruptedException(InterruptedException cause) {
    super(null, "interrupted while waiting for a lock", cause);
  }

  @Override
  public Reason reason() {
    return Reason.INTERRUPTED;
  }
}
