package dev.fenced.lock;

/** What {@link LockHandle#release()} found. */
public enum ReleaseResult {
  /** This hold was in place and is now removed. */
  RELEASED,
  /** This hold had already ended (released before, lapsed, or taken over); nothing was changed. */
  NOT_HELD
}
