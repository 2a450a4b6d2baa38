package dev.fenced.vote.ballot;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.fencing.Fence;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;

/**
 * Runs the vote transaction's statements on a connection whose transaction the caller owns (and
 * commits or rolls back): insert the ballot, read the counter, write it back plus one, fenced by
 * the hold's token, and check the hold is still alive right before the caller commits.
 */
final class VoteRecorder {

  /** What the transaction wrote. */
  record Recorded(long count, long fence) {}

  private final String statementTimeout;

  VoteRecorder(Duration statementTimeout) {
    this.statementTimeout = Math.max(1, statementTimeout.toMillis()) + "ms";
  }

  /**
   * @return the new count; fails with {@link AlreadyVotedException}, {@link
   *     dev.fenced.lock.fencing.StaleFenceException} or {@link LeaseLostException}, after which the
   *     caller must roll back
   */
  Future<Recorded> record(
      SqlConnection conn, String poll, String option, String voter, LockHandle hold) {
    Fence fence = Fence.of(hold);
    long token = fence.token();
    return conn.preparedQuery(VoteSql.STATEMENT_TIMEOUT)
        .execute(Tuple.of(statementTimeout))
        .compose(
            ignored ->
                conn.preparedQuery(VoteSql.INSERT_BALLOT).execute(Tuple.of(poll, voter, option)))
        .compose(
            inserted -> {
              if (inserted.rowCount() == 0) {
                return Future.failedFuture(new AlreadyVotedException(poll, voter));
              }
              return conn.preparedQuery(VoteSql.READ_COUNT).execute(Tuple.of(poll, option));
            })
        .compose(
            read -> {
              long next = single(read, poll, option) + 1;
              List<Object> params =
                  VoteSql.WRITE_COUNT.params(List.of(next), List.of(poll, option), fence);
              return conn.preparedQuery(VoteSql.WRITE_COUNT.sql())
                  .execute(Tuple.from(params))
                  .map(
                      written -> {
                        VoteSql.WRITE_COUNT.requireApplied(written.rowCount(), token);
                        return new Recorded(next, token);
                      });
            })
        .compose(
            recorded ->
                hold.isHeld()
                    ? Future.succeededFuture(recorded)
                    : Future.failedFuture(new LeaseLostException(hold.name())));
  }

  private static long single(RowSet<Row> rows, String poll, String option) {
    Iterator<Row> it = rows.iterator();
    if (!it.hasNext()) {
      throw new IllegalStateException(
          "poll '" + poll + "' has no counter row for option '" + option + "'");
    }
    return it.next().getLong(0);
  }
}
