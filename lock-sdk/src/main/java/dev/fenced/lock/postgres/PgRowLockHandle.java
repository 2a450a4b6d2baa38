package dev.fenced.lock.postgres;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.sql.SqlTransactionHold;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.CompletionStage;

/**
 * A {@code Postgres/RowLock} hold: an open transaction that holds {@code SELECT ... FOR UPDATE} on
 * the lock's row. Run your own statements on {@link #connection()}: they belong to that
 * transaction, so they commit with {@link #release()} and vanish with {@link #rollback()}, and
 * nobody else can hold the lock in between.
 *
 * <p>Rules of the connection: do not issue {@code BEGIN}, {@code COMMIT}, {@code ROLLBACK} or
 * {@code SAVEPOINT} release statements on it (use {@link #release()} and {@link #rollback()}), and
 * do not close it. A statement that fails aborts the transaction: call {@link #rollback()}. The
 * transaction runs with {@code idle_in_transaction_session_timeout} = the lease, kept at bay by the
 * renewal heartbeat; a holder that stops for longer loses its transaction, its writes and the lock.
 * The heartbeat also checks that the connection is still in the transaction that locked the row: a
 * {@code COMMIT} or {@code ROLLBACK} issued on it anyway ends the hold, and it is reported lost.
 */
public final class PgRowLockHandle extends PinnedConnectionHandle implements SqlTransactionHold {

  /**
   * Whether the connection is still in the transaction that locked the row: a row lock lasts as
   * long as its transaction (a savepoint the caller rolls back to is younger than the lock), so the
   * same transaction still holds it. Null, and so not true, when no transaction id is assigned.
   */
  private static final String STILL_HELD = "SELECT txid_current_if_assigned() = $1";

  private final long transactionId;
  private volatile boolean commit = true;

  PgRowLockHandle(
      String backend,
      String name,
      long token,
      String owner,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAt,
      SqlConnection conn,
      int backendPid,
      long transactionId,
      PostgresLockService service) {
    super(backend, name, token, owner, settings, keeper, sentAt, conn, backendPid, service);
    this.transactionId = transactionId;
  }

  /** The connection whose transaction holds the lock; run the writes the lock protects here. */
  @Override
  public SqlConnection connection() {
    return conn();
  }

  /**
   * Commits the transaction, the caller's writes with it, which frees the lock. {@link
   * ReleaseResult#NOT_HELD} when the hold had already ended: then the writes were rolled back.
   * Fails when the commit fails (for example a deferred constraint); the lock is free then too.
   */
  @Override
  public CompletionStage<ReleaseResult> release() {
    commit = true;
    return super.release();
  }

  /** Rolls the transaction back, discarding the caller's writes, which frees the lock. */
  @Override
  public CompletionStage<ReleaseResult> rollback() {
    commit = false;
    return super.release();
  }

  @Override
  Future<Boolean> heartbeat() {
    return bounded(conn().preparedQuery(STILL_HELD).execute(Tuple.of(transactionId)))
        .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean(0)));
  }

  @Override
  Future<Boolean> endOnServer() {
    // After a loss the caller must not see its writes committed behind its back: roll back.
    // (a loss marks the hold lost before it gets here; a release cannot race past it).
    boolean doCommit = commit && !wasLost();
    return bounded(conn().query(doCommit ? "COMMIT" : "ROLLBACK").execute()).map(true);
  }
}
