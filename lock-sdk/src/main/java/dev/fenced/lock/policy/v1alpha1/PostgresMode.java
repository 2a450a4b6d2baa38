package dev.fenced.lock.policy.v1alpha1;

/** How the PostgreSQL backend holds a lock. */
public enum PostgresMode {
  /** A row per held lock in a lock table, taken with INSERT ... ON CONFLICT, expiring by lease. */
  LockTable,
  /** SELECT ... FOR UPDATE on a row per lock name, held in an open transaction. */
  RowLock,
  /** A PostgreSQL advisory lock, held by a database session. */
  Advisory
}
