package dev.fenced.lock.postgres;

import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
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
 * {@code Postgres/Advisory}: a session-level {@code pg_advisory_lock} held on a connection pinned
 * for the hold.
 *
 * <p>The key is {@code hashtextextended(name, 0)}, a 64-bit hash computed by the server: two
 * different names collide with a probability of about n²/2^65 for n names in use at once (for a
 * million names, about 3 in 10^8). A collision makes the two names exclude each other, which is
 * slower but never unsafe; fences still come from the sequence.
 *
 * <p>The server queues waiters ({@code lock_timeout} = the wait, SQLSTATE 55P03 on timeout); the
 * fence is drawn after the lock is granted. Advisory locks have no TTL: they live as long as the
 * session. The session therefore gets {@code idle_session_timeout} = the lease (PostgreSQL 14+),
 * which the renewal heartbeat keeps at bay, so a holder that stops for longer than the lease has
 * its session ended by the server and the lock freed. The heartbeat also checks in {@code pg_locks}
 * that the session still holds the lock.
 *
 * <p>Connections come from the service's pool. Release unlocks, drops every advisory lock of the
 * session and resets both timeouts before the connection goes back; when that does not complete (a
 * loss, a failure, a close) the session is terminated instead, so a pooled connection never carries
 * a lock to its next borrower. Each hold and each waiting acquire occupies one pooled connection.
 */
public final class PgAdvisoryLockService extends PostgresLockService {

  /** {@code idle_session_timeout} arrived in PostgreSQL 14. */
  static final int MIN_SERVER_VERSION = 140000;

  private static final String LOCK = "SELECT pg_advisory_lock(hashtextextended($1, 0))";
  private static final String NEXT_FENCE =
      "SELECT nextval('" + FENCE_SEQUENCE + "'), pg_backend_pid()";
  private static final String RESET =
      "SELECT pg_advisory_unlock_all(); RESET idle_session_timeout; RESET lock_timeout";

  PgAdvisoryLockService(
      Vertx vertx, PostgresLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    super(vertx, config, settings, keeper);
  }

  @Override
  List<String> schema() {
    return List.of();
  }

  @Override
  void checkServer(int versionNum, String version) {
    if (versionNum < MIN_SERVER_VERSION) {
      throw new InvalidLockPolicyException(
          null,
          backend()
              + " needs PostgreSQL 14 or later (idle_session_timeout ends the sessions of"
              + " stopped holders); the server is "
              + version
              + ". Use mode LockTable or RowLock.");
    }
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    long deadline = System.nanoTime() + maxWait.toNanos();
    Future<LockHandle> acquired =
        pool.getConnection()
            .compose(
                conn ->
                    lockOn(conn, name, maxWait, deadline)
                        .onFailure(e -> giveBack(conn, e, PgAdvisoryLockService::resetSession)));
    return handedOver(acquired);
  }

  private Future<LockHandle> lockOn(
      SqlConnection conn, String name, Duration maxWait, long deadline) {
    long waitNanos = deadline - System.nanoTime();
    if (waitNanos <= 0 && !maxWait.isZero()) {
      return Future.failedFuture(new LockTimeoutException(name, maxWait));
    }
    String setup =
        "SET lock_timeout = '"
            + positiveMillis(waitNanos)
            + "ms'; SET idle_session_timeout = '"
            + leaseMillis()
            + "ms'";
    return bounded(0, conn.query(setup).execute())
        .compose(
            r ->
                bounded(
                    TimeUnit.NANOSECONDS.toMillis(waitNanos),
                    conn.preparedQuery(LOCK).execute(Tuple.of(name))))
        .compose(
            locked -> {
              long sentAt = System.nanoTime();
              return bounded(0, conn.query(NEXT_FENCE).execute())
                  .map(rows -> (LockHandle) hold(conn, name, rows, sentAt));
            });
  }

  private PgAdvisoryLockHandle hold(
      SqlConnection conn, String name, RowSet<Row> rows, long sentAt) {
    Row row = rows.iterator().next();
    PgAdvisoryLockHandle handle =
        started(
            new PgAdvisoryLockHandle(
                backend(),
                name,
                token(row.getLong(0)),
                Owners.newOwnerId(),
                settings,
                keeper,
                sentAt,
                conn,
                row.getInteger(1),
                this));
    handle.watchConnection();
    return handle;
  }

  /**
   * Leaves the session as the pool gave it: no advisory locks, default timeouts. The caller bounds
   * it, as every statement on a connection it keeps.
   */
  static Future<Void> resetSession(SqlConnection conn) {
    return conn.query(RESET).execute().mapEmpty();
  }
}
