package dev.fenced.lock;

import java.time.Duration;

/** The lock stayed held by someone else for the whole wait. Nothing was acquired. */
public class LockTimeoutException extends LockException {

  public LockTimeoutException(String lockName, Duration waited) {
    super(lockName, "lock '" + lockName + "' not acquired within " + waited, null);
  }

  @Override
  public Reason reason() {
    return Reason.TIMEOUT;
  }
}
