package dev.fenced.lock.postgres;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.Holds;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Owners;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code Postgres/RowLock}: the pessimistic lock, {@code SELECT ... FOR UPDATE} on a row per lock
 * name in {@value #TABLE}, held by a transaction that stays open for the hold.
 *
 * <p>Acquire makes sure the row exists (its own autocommit statement), takes a connection from the
 * pool, and in one transaction sets {@code lock_timeout} to the wait and {@code
 * idle_in_transaction_session_timeout} to the lease, locks the row (the server queues waiters in
 * order; a timeout is SQLSTATE 55P03) and only then draws the fence from the sequence. The hold is
 * the transaction: {@link PgRowLockHandle#connection()} runs the caller's writes inside it, {@link
 * PgRowLockHandle#release()} commits them, {@link PgRowLockHandle#rollback()} discards them. The
 * wait's {@code lock_timeout} is set back to the default once the row is locked, so the caller's
 * statements wait as they would anywhere else. Renewal is a heartbeat on that connection that
 * checks the transaction is still the one that locked the row (row locks last exactly as long as
 * their transaction); the connection closing (server restart, {@code pg_terminate_backend}, the
 * idle timeout after a pause) or another transaction on it is the loss.
 *
 * <p>Each hold and each waiting acquire occupies one pooled connection, so {@link
 * PostgresLockConfig#maxPoolSize()} bounds how many this service can have at once.
 */
public final class PgRowLockService extends PostgresLockService {

  public static final String TABLE = "fenced_row_locks";

  private static final String ENSURE_ROW =
      "INSERT INTO " + TABLE + " (resource) VALUES ($1) ON CONFLICT (resource) DO NOTHING";
  private static final String LOCK_ROW =
      "SELECT resource FROM " + TABLE + " WHERE resource = $1 FOR UPDATE";

  /**
   * Once the row is locked: the wait's {@code lock_timeout} goes back to the session's default, so
   * it does not bind the caller's own statements in the transaction; then the fence, the session
   * and the transaction id, which the heartbeat checks.
   */
  private static final String NEXT_FENCE =
      "SET LOCAL lock_timeout TO DEFAULT; SELECT nextval('"
          + FENCE_SEQUENCE
          + "'), pg_backend_pid(), txid_current()";

  PgRowLockService(
      Vertx vertx, PostgresLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    super(vertx, config, settings, keeper);
  }

  @Override
  List<String> schema() {
    return List.of("CREATE TABLE IF NOT EXISTS " + TABLE + " (resource text PRIMARY KEY)");
  }

  /** {@link #acquire(String, Duration)} typed as the row lock's handle. */
  public CompletionStage<PgRowLockHandle> acquireRowLock(String name, Duration maxWait) {
    return Holds.relay(
        acquire(name, maxWait).toCompletableFuture(),
        Failures::unwrap,
        PgRowLockHandle.class,
        Runnable::run); // acquire() already completes on the callback threads
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    long deadline = System.nanoTime() + maxWait.toNanos();
    Future<LockHandle> acquired =
        request(conn -> conn.preparedQuery(ENSURE_ROW).execute(Tuple.of(name)))
            .compose(r -> pool.getConnection())
            .compose(
                conn ->
                    lockOn(conn, name, maxWait, deadline)
                        .onFailure(e -> giveBack(conn, e, c -> c.query("ROLLBACK").execute())));
    return handedOver(acquired);
  }

  private Future<LockHandle> lockOn(
      SqlConnection conn, String name, Duration maxWait, long deadline) {
    long waitNanos = deadline - System.nanoTime();
    if (waitNanos <= 0 && !maxWait.isZero()) {
      // The pool made us wait the whole time.
      return Future.failedFuture(new LockTimeoutException(name, maxWait));
    }
    String begin =
        "BEGIN; SET LOCAL lock_timeout = '"
            + positiveMillis(waitNanos)
            + "ms'; SET LOCAL idle_in_transaction_session_timeout = '"
            + leaseMillis()
            + "ms'";
    return bounded(0, conn.query(begin).execute())
        .compose(
            r ->
                bounded(
                    TimeUnit.NANOSECONDS.toMillis(waitNanos),
                    conn.preparedQuery(LOCK_ROW).execute(Tuple.of(name))))
        .compose(
            locked -> {
              if (locked.size() != 1) {
                return Future.failedFuture(
                    new IllegalStateException(
                        "the row of lock '" + name + "' vanished from " + TABLE));
              }
              long sentAt = System.nanoTime();
              return bounded(0, conn.query(NEXT_FENCE).execute())
                  .map(rows -> (LockHandle) hold(conn, name, rows, sentAt));
            });
  }

  private PgRowLockHandle hold(SqlConnection conn, String name, RowSet<Row> rows, long sentAt) {
    Row row = rows.next().iterator().next(); // the result of the SELECT, after the SET's
    PgRowLockHandle handle =
        started(
            new PgRowLockHandle(
                backend(),
                name,
                token(row.getLong(0)),
                Owners.newOwnerId(),
                settings,
                keeper,
                sentAt,
                conn,
                row.getInteger(1),
                row.getLong(2),
                this));
    handle.watchConnection();
    return handle;
  }
}
