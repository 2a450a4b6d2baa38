package dev.fenced.lock.sql;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.ReleaseResult;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the transaction that a hold protects, one way for every backend.
 *
 * <p>Where the hold is itself a transaction in the database ({@link SqlTransactionHold}, PostgreSQL
 * RowLock), the work runs in it: committing is releasing, a rollback ends the hold too, and no
 * other holder can come between the work's statements. Under every other hold the work runs in a
 * transaction of {@link #HeldTransactions(Pool, Duration) the given pool}, which is committed only
 * if the hold is still held right before the commit; the hold itself stays the caller's to release
 * (releasing it again after a {@link SqlTransactionHold} committed is a no-op).
 *
 * <p>Either way the work is one transaction: it is committed whole or not at all. A failure of the
 * work rolls it back and is passed on; a hold that ended before the commit fails the run with
 * {@link HoldLostException}, and nothing was committed.
 *
 * <p>Round trips: on the pool path {@code BEGIN} is sent together with the work's first statement
 * (PostgreSQL runs a connection's statements in order), and {@code COMMIT} is one more; on the
 * hold's own transaction the commit is the release. A work of one statement therefore costs two
 * round trips on either path. A hold's transaction must be in the same database as the pool's (for
 * RowLock: the policy points at that database).
 */
public final class HeldTransactions {

  private static final Logger LOG = LoggerFactory.getLogger(HeldTransactions.class);

  private final Pool pool;
  private final String lockStatementTimeout;

  /**
   * @param pool the connections to the database the work writes
   * @param statementTimeout the longest one statement of the work may run inside a hold's own
   *     transaction, set there with {@code SET LOCAL} sent with the work's first statement (no
   *     round trip of its own); null for none. The pool's own connections should carry the same
   *     limit as a connection setting (PostgreSQL's {@code statement_timeout} startup parameter),
   *     so nothing is sent for it per transaction.
   */
  public HeldTransactions(Pool pool, Duration statementTimeout) {
    this.pool = Objects.requireNonNull(pool, "pool");
    if (statementTimeout != null && (statementTimeout.isNegative() || statementTimeout.isZero())) {
      throw new IllegalArgumentException(
          "statementTimeout must be positive, was " + statementTimeout);
    }
    this.lockStatementTimeout =
        statementTimeout == null
            ? null
            : "SET LOCAL statement_timeout = '" + Math.max(1, statementTimeout.toMillis()) + "ms'";
  }

  /**
   * Whether running a transaction under {@code hold} ends it: the hold is itself the transaction
   * (Postgres RowLock), so its commit is the release and the hold serves one transaction only.
   */
  public static boolean commitEndsHold(LockHandle hold) {
    return hold instanceof SqlTransactionHold;
  }

  /**
   * Runs {@code work} in one transaction under {@code hold} and commits it.
   *
   * @param work issues the transaction's statements on the connection it is given and completes
   *     when they have answered; it must not begin, commit or roll back, nor close the connection
   * @return the work's result once committed; fails with the work's failure (rolled back), with
   *     {@link HoldLostException} when the hold ended before the commit (nothing committed), or
   *     with the commit's failure
   */
  public <T> CompletionStage<T> run(LockHandle hold, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(hold, "hold");
    Objects.requireNonNull(work, "work");
    if (hold instanceof SqlTransactionHold own) {
      return inHold(own, work).toCompletionStage();
    }
    return inPool(hold, work).toCompletionStage();
  }

  private <T> Future<T> inPool(LockHandle hold, Function<SqlConnection, Future<T>> work) {
    return pool.getConnection()
        .compose(
            conn -> {
              Future<?> begin = conn.query("BEGIN").execute();
              Future<T> done = apply(work, conn);
              return Future.join(begin, done)
                  .transform(
                      ar -> {
                        if (begin.failed()) {
                          if (done.succeeded()) {
                            LOG.error(
                                "BEGIN failed but the statements after it succeeded; they ran"
                                    + " outside a transaction (lock '{}')",
                                hold.name(),
                                begin.cause());
                          }
                          return rollback(conn, begin.cause());
                        }
                        if (done.failed()) {
                          return rollback(conn, done.cause());
                        }
                        if (!hold.isHeld()) {
                          return rollback(conn, new HoldLostException(hold.name()));
                        }
                        return conn.query("COMMIT").execute().map(done.result());
                      })
                  .eventually(() -> conn.close());
            });
  }

  private <T> Future<T> inHold(SqlTransactionHold hold, Function<SqlConnection, Future<T>> work) {
    SqlConnection conn = hold.connection();
    Future<?> setting =
        lockStatementTimeout == null
            ? Future.succeededFuture()
            : conn.query(lockStatementTimeout).execute();
    Future<T> done = apply(work, conn);
    return Future.join(setting, done)
        .transform(
            ar -> {
              if (ar.failed()) {
                Throwable cause = setting.failed() ? setting.cause() : done.cause();
                return Future.fromCompletionStage(hold.rollback())
                    .transform(r -> Future.<T>failedFuture(cause));
              }
              return Future.fromCompletionStage(hold.release())
                  .compose(
                      released ->
                          released == ReleaseResult.RELEASED
                              ? Future.succeededFuture(done.result())
                              : Future.failedFuture(new HoldLostException(hold.name())));
            });
  }

  private static <T> Future<T> apply(Function<SqlConnection, Future<T>> work, SqlConnection conn) {
    try {
      return Objects.requireNonNull(work.apply(conn), "the work returned no future");
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static <T> Future<T> rollback(SqlConnection conn, Throwable cause) {
    return conn.query("ROLLBACK").execute().transform(r -> Future.failedFuture(cause));
  }
}
