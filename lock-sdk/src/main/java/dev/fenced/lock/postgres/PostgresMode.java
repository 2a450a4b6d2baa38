package dev.fenced.lock.postgres;

/** How a PostgreSQL lock service holds its locks; LockPolicy's {@code postgres.mode}. */
public enum PostgresMode {
  /**
   * A row per held lock in {@code distributed_locks} with a server-side expiry; expired rows are
   * taken over. Waiters are woken by {@code NOTIFY} on release.
   */
  LockTable("Postgres/LockTable"),
  /**
   * {@code SELECT ... FOR UPDATE} on a row per lock name, held by an open transaction that the
   * caller can write in; the server queues waiters.
   */
  RowLock("Postgres/RowLock"),
  /**
   * A session-level {@code pg_advisory_lock} on a connection pinned for the hold; the server queues
   * waiters.
   */
  Advisory("Postgres/Advisory");

  private final String backend;

  PostgresMode(String backend) {
    this.backend = backend;
  }

  /** The backend name as LockPolicy and {@link dev.fenced.lock.LockService#backend()} spell it. */
  public String backend() {
    return backend;
  }
}
