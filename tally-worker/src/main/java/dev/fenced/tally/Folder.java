package dev.fenced.tally;

import dev.fenced.lock.fencing.Fence;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * Folds one poll's new ballots into {@code tallies} in one transaction, fenced by the owner's
 * token.
 *
 * <p>The watermark is a transaction-id horizon, not a ballot sequence: a ballot's {@code seq} is
 * handed out when it is inserted, but it becomes visible only when its transaction commits, so a
 * ballot with a small {@code seq} can appear after ballots with larger ones have been folded. The
 * fold therefore takes {@code pg_snapshot_xmin(pg_current_snapshot())} — below it every transaction
 * has finished, so the set of ballots with {@code tx} under it can no longer change — and folds
 * exactly the ballots with {@code horizon <= tx < xmin}, then moves the horizon to xmin.
 *
 * <p>The watermark update is conditional on the horizon read at the start and on the stored fence
 * not being newer than this owner's token. Zero rows means a newer owner wrote, or another fold
 * moved the horizon first: the whole transaction, tally increments included, is rolled back.
 */
public final class Folder {

  /** What one fold did. */
  public enum Outcome {
    /** Ballots were folded and the watermark moved, under this token. */
    FOLDED,
    /** No finished ballot past the horizon; nothing was written. */
    NOTHING_NEW,
    /** The fenced watermark update touched no row: a newer owner, or a concurrent fold. */
    REJECTED,
    /** The caller stopped owning the poll before commit; rolled back. */
    ABANDONED
  }

  /**
   * @param outcome what happened
   * @param folded ballots added to the tallies (0 unless {@link Outcome#FOLDED})
   * @param pending ballots of the poll this transaction could see that stay past the new horizon
   *     (their transaction id is not yet below the snapshot horizon): the fold lag
   * @param horizon the horizon after the fold
   */
  public record Result(Outcome outcome, long folded, long pending, long horizon) {}

  /**
   * Reads the watermark and the snapshot horizon in one statement, before this transaction writes.
   */
  static final String READ_WATERMARK =
      "SELECT horizon::text::bigint AS horizon,"
          + " pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS next"
          + " FROM tally_watermarks WHERE poll_id = $1";

  static final String COUNT_BALLOTS =
      "SELECT option,"
          + " count(*) FILTER (WHERE tx < $3::bigint::text::xid8) AS folded,"
          + " count(*) FILTER (WHERE tx >= $3::bigint::text::xid8) AS pending"
          + " FROM ballots WHERE poll_id = $1 AND tx >= $2::bigint::text::xid8"
          + " GROUP BY option";

  static final String ADD_TALLIES =
      "INSERT INTO tallies (poll_id, option, count)"
          + " SELECT $1, o, n FROM unnest($2::text[], $3::bigint[]) AS t(o, n)"
          + " ON CONFLICT (poll_id, option) DO UPDATE SET count = tallies.count + EXCLUDED.count";

  /**
   * The fenced watermark update: {@code FencedUpdate}'s guard (a newer token, or the same hold's),
   * plus the horizon read at the start, with a relative {@code tallied} that FencedUpdate cannot
   * express.
   */
  static final String MOVE_WATERMARK =
      "UPDATE tally_watermarks SET horizon = $2::bigint::text::xid8, tallied = tallied + $3,"
          + " fence = $4, fence_holder = $6"
          + " WHERE poll_id = $1 AND horizon = $5::bigint::text::xid8"
          + " AND (fence < $4 OR (fence = $4 AND (fence_holder = $6 OR fence_holder IS NULL)))";

  static final String ENSURE_WATERMARK =
      "INSERT INTO tally_watermarks (poll_id) VALUES ($1) ON CONFLICT (poll_id) DO NOTHING";

  private final Pool pool;

  public Folder(Pool pool) {
    this.pool = Objects.requireNonNull(pool, "pool");
  }

  /** Creates the poll's watermark row (horizon 0, fence 0) unless it exists. */
  public CompletionStage<Void> ensureWatermark(String poll) {
    return pool.preparedQuery(ENSURE_WATERMARK)
        .execute(Tuple.of(poll))
        .<Void>mapEmpty()
        .toCompletionStage();
  }

  /**
   * Folds {@code poll} under {@code fence} (the owner's token and hold identity).
   *
   * @param stillOwner asked just before commit; false rolls the fold back ({@link
   *     Outcome#ABANDONED}), so an owner that has just learnt of its loss writes nothing more
   */
  public CompletionStage<Result> fold(String poll, Fence fence, BooleanSupplier stillOwner) {
    return pool.withTransaction(conn -> fold(conn, poll, fence, stillOwner))
        .recover(
            failure -> {
              if (failure instanceof Rollback rollback) {
                return Future.succeededFuture(rollback.result);
              }
              return Future.failedFuture(failure);
            })
        .toCompletionStage();
  }

  private Future<Result> fold(
      SqlConnection conn, String poll, Fence fence, BooleanSupplier stillOwner) {
    return conn.preparedQuery(READ_WATERMARK)
        .execute(Tuple.of(poll))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(
                    new IllegalStateException("poll '" + poll + "' has no watermark row"));
              }
              Row row = rows.iterator().next();
              long horizon = row.getLong("horizon");
              long next = row.getLong("next");
              if (next <= horizon) {
                return Future.succeededFuture(new Result(Outcome.NOTHING_NEW, 0, 0, horizon));
              }
              return conn.preparedQuery(COUNT_BALLOTS)
                  .execute(Tuple.of(poll, horizon, next))
                  .compose(counts -> apply(conn, poll, fence, horizon, next, counts, stillOwner));
            });
  }

  private Future<Result> apply(
      SqlConnection conn,
      String poll,
      Fence fence,
      long horizon,
      long next,
      Iterable<Row> counts,
      BooleanSupplier stillOwner) {
    List<String> options = new ArrayList<>();
    List<Long> added = new ArrayList<>();
    long folded = 0;
    long pending = 0;
    for (Row r : counts) {
      long n = r.getLong("folded");
      pending += r.getLong("pending");
      if (n > 0) {
        options.add(r.getString("option"));
        added.add(n);
        folded += n;
      }
    }
    if (folded == 0) {
      // Nothing to add: leave the row alone rather than write on every tick of an idle poll.
      return Future.succeededFuture(new Result(Outcome.NOTHING_NEW, 0, pending, horizon));
    }
    long total = folded;
    long lag = pending;
    return conn.preparedQuery(ADD_TALLIES)
        .execute(Tuple.of(poll, options.toArray(new String[0]), added.toArray(new Long[0])))
        .compose(
            v ->
                conn.preparedQuery(MOVE_WATERMARK)
                    .execute(Tuple.of(poll, next, total, fence.token(), horizon, fence.holder())))
        .compose(
            updated -> {
              if (updated.rowCount() == 0) {
                return Future.failedFuture(
                    new Rollback(new Result(Outcome.REJECTED, 0, lag, horizon)));
              }
              if (!stillOwner.getAsBoolean()) {
                return Future.failedFuture(
                    new Rollback(new Result(Outcome.ABANDONED, 0, lag, horizon)));
              }
              return Future.succeededFuture(new Result(Outcome.FOLDED, total, lag, next));
            });
  }

  /** Ends the transaction with a rollback and carries the answer past it. */
  private static final class Rollback extends RuntimeException {
    final Result result;

    Rollback(Result result) {
      super(result.outcome().name(), null, false, false);
      this.result = result;
    }
  }
}
