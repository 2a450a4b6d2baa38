package dev.fenced.lock;

/** The policy or settings behind a lock cannot be used; the message names the field. */
public class InvalidLockPolicyException extends LockException {

  public InvalidLockPolicyException(String lockName, String message) {
    super(lockName, message, null);
  }

  @Override
  public Reason reason() {
    return Reason.POLICY_INVALID;
  }
}
