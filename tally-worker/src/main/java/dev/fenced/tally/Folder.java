package dev.fenced.tally;

import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.fencing.FencedUpdate;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * The SQL of folding: finding the polls with new ballots, and folding one shard's polls into {@code
 * tallies} in one transaction fenced by the shard owner's token.
 *
 * <p>Watermarks are transaction-id horizons, not ballot sequences: a ballot's {@code seq} is handed
 * out when it is inserted, but it becomes visible only when its transaction commits, so a ballot
 * with a small {@code seq} can appear after ballots with larger ones have been folded. Below {@code
 * pg_snapshot_xmin(pg_current_snapshot())} every transaction has ended, so the set of ballots with
 * {@code tx} under it can no longer change: a poll is folded exactly up to that horizon.
 *
 * <p>Finding work ({@link #discover}) is one range scan over the ballots' {@code tx} past a cursor,
 * whatever the number of polls. Folding a shard ({@link #fold}) is one transaction:
 *
 * <ol>
 *   <li>the fenced update of the shard's row ({@link FencedUpdate}: a newer token, or the same
 *       hold's), which also raises the shard's horizon; zero rows means a newer owner folded, and
 *       nothing is written. The row lock it takes makes two folds of one shard run one after the
 *       other, so under a lock that excludes nobody the second sees the first's horizons;
 *   <li>one statement reads the snapshot horizon, the polls' watermarks and their new ballots by
 *       option;
 *   <li>the counts are added into {@code tallies};
 *   <li>each poll's watermark moves from the horizon read to the snapshot horizon, only if it still
 *       holds the value read (compare-and-set); a poll moved meanwhile rolls the whole fold back.
 * </ol>
 */
public final class Folder {

  /** What one fold did. */
  public enum Outcome {
    /** Ballots were folded and the watermarks moved, under this token. */
    FOLDED,
    /** No finished ballot past the polls' horizons; only the shard's row was written. */
    NOTHING_NEW,
    /** The fenced update of the shard's row touched no row: a newer owner folded. */
    REJECTED,
    /** A poll's watermark had moved since it was read: another fold came first. Retry. */
    CONFLICT,
    /** The caller stopped owning the shard before commit; rolled back. */
    ABANDONED
  }

  /**
   * @param outcome what happened
   * @param folded ballots added to the tallies (0 unless {@link Outcome#FOLDED})
   * @param horizon the snapshot horizon the fold counted up to: after {@link Outcome#FOLDED} or
   *     {@link Outcome#NOTHING_NEW}, every ballot of the folded polls below it is in the tallies
   */
  public record Result(Outcome outcome, long folded, long horizon) {}

  /**
   * A poll with ballots past the discovery cursor.
   *
   * @param readyMaxTx the largest transaction id among its ballots below the snapshot horizon
   *     (ready to fold), or -1 if none
   * @param ready how many of its ballots are ready to fold
   * @param pending how many are visible but at or past the horizon (an older transaction is still
   *     open)
   * @param readyAge seconds since the oldest ready ballot was cast (0 if none)
   * @param pendingAge seconds since the oldest pending ballot was cast (0 if none)
   */
  public record Activity(
      String poll, long readyMaxTx, long ready, long pending, double readyAge, double pendingAge) {}

  /**
   * @param horizon the snapshot horizon of the scan: every ballot below it has its transaction
   *     ended
   * @param polls the polls with ballots at or past the cursor
   */
  public record Discovery(long horizon, List<Activity> polls) {}

  /**
   * The polls with ballots at or past a transaction id, with the snapshot horizon, in one statement
   * (one snapshot): a range scan of {@code ballots_tx}.
   */
  static final String DISCOVER =
      "SELECT s.next, b.poll_id, b.ready_max, b.ready, b.pending, b.ready_age, b.pending_age"
          + " FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS x) s0"
          + " CROSS JOIN LATERAL (SELECT s0.x::text::bigint AS next) s"
          + " LEFT JOIN LATERAL (SELECT poll_id,"
          + " max(tx::text::bigint) FILTER (WHERE tx < s0.x) AS ready_max,"
          + " count(*) FILTER (WHERE tx < s0.x) AS ready,"
          + " count(*) FILTER (WHERE tx >= s0.x) AS pending,"
          + " extract(epoch FROM now() - min(cast_at) FILTER (WHERE tx < s0.x))::float8"
          + " AS ready_age,"
          + " extract(epoch FROM now() - min(cast_at) FILTER (WHERE tx >= s0.x))::float8"
          + " AS pending_age"
          + " FROM ballots WHERE tx >= $1::bigint::text::xid8 GROUP BY poll_id) b ON true";

  /** Creates the shard's row unless it exists, and reads its horizon. */
  static final String CLAIM =
      "WITH ins AS (INSERT INTO tally_shards (shard_count, shard) VALUES ($1, $2)"
          + " ON CONFLICT (shard_count, shard) DO NOTHING RETURNING horizon)"
          + " SELECT horizon FROM ins"
          + " UNION ALL SELECT horizon FROM tally_shards WHERE shard_count = $1 AND shard = $2";

  /** The fenced write that opens a fold: the shard's fence and its horizon, raised. */
  static final FencedUpdate FENCE_SHARD =
      FencedUpdate.table("tally_shards")
          .raise("horizon")
          .where("shard_count", "shard")
          .fence("fence", "fence_holder");

  /**
   * The snapshot horizon, each poll's watermark (NULL when it has no row) and its ballots from its
   * horizon up to the snapshot horizon, by option; one snapshot.
   */
  static final String COUNT_BALLOTS =
      "SELECT p.poll_id, w.horizon::text::bigint AS horizon, s.next, c.option, c.n"
          + " FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS x) s0"
          + " CROSS JOIN LATERAL (SELECT s0.x::text::bigint AS next) s"
          + " CROSS JOIN unnest($1::text[]) AS p(poll_id)"
          + " LEFT JOIN tally_watermarks w ON w.poll_id = p.poll_id"
          + " LEFT JOIN LATERAL (SELECT b.option, count(*) AS n FROM ballots b"
          + " WHERE b.poll_id = p.poll_id AND b.tx >= w.horizon AND b.tx < s0.x"
          + " GROUP BY b.option) c ON true";

  static final String ENSURE_WATERMARKS =
      "INSERT INTO tally_watermarks (poll_id) SELECT unnest($1::text[])"
          + " ON CONFLICT (poll_id) DO NOTHING";

  /** Sorted by poll and option, so two folds that meet lock the rows in the same order. */
  static final String ADD_TALLIES =
      "INSERT INTO tallies (poll_id, option, count)"
          + " SELECT p, o, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(p, o, n)"
          + " ORDER BY p, o"
          + " ON CONFLICT (poll_id, option) DO UPDATE SET count = tallies.count + EXCLUDED.count";

  /** Each poll's horizon moves from the value read, and only from it; its tally count grows. */
  static final String MOVE_WATERMARKS =
      "UPDATE tally_watermarks w SET horizon = $1::bigint::text::xid8, tallied = w.tallied + d.n"
          + " FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS d(p, h, n)"
          + " WHERE w.poll_id = d.p AND w.horizon = d.h::text::xid8";

  /**
   * Raises the horizons of shards whose every ballot below {@code $3} is folded. Not fenced: it
   * states a fact about the tallies that stays true whoever states it, and it never lowers.
   */
  static final String RAISE_HORIZONS =
      "UPDATE tally_shards SET horizon = $3 WHERE shard_count = $1 AND shard = ANY($2::int[])"
          + " AND horizon < $3";

  private final Pool pool;

  public Folder(Pool pool) {
    this.pool = Objects.requireNonNull(pool, "pool");
  }

  /** The polls with ballots whose transaction id is at least {@code from}. */
  public CompletionStage<Discovery> discover(long from) {
    return pool.preparedQuery(DISCOVER)
        .execute(Tuple.of(from))
        .map(
            rows -> {
              long horizon = -1;
              List<Activity> polls = new ArrayList<>();
              for (Row r : rows) {
                horizon = r.getLong("next");
                String poll = r.getString("poll_id");
                if (poll != null) {
                  Long readyMax = r.getLong("ready_max");
                  polls.add(
                      new Activity(
                          poll,
                          readyMax == null ? -1 : readyMax,
                          r.getLong("ready"),
                          r.getLong("pending"),
                          orZero(r.getDouble("ready_age")),
                          orZero(r.getDouble("pending_age"))));
                }
              }
              return new Discovery(horizon, polls);
            })
        .toCompletionStage();
  }

  /** Creates the shard's row (horizon 0, fence 0) unless it exists; answers its horizon. */
  public CompletionStage<Long> claim(Sharding sharding, int shard) {
    return pool.preparedQuery(CLAIM)
        .execute(Tuple.of(sharding.count(), shard))
        // No row seen: another worker created it at the same moment, after this statement's
        // snapshot. Searching from 0 is always right, only slower.
        .map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong("horizon"))
        .toCompletionStage();
  }

  /** Raises the horizons of {@code shards} to {@code horizon} where they are lower. */
  public CompletionStage<Void> raiseHorizons(
      Sharding sharding, List<Integer> shards, long horizon) {
    return pool.preparedQuery(RAISE_HORIZONS)
        .execute(Tuple.of(sharding.count(), shards.toArray(new Integer[0]), horizon))
        .<Void>mapEmpty()
        .toCompletionStage();
  }

  /**
   * Folds {@code polls}, all of {@code shard}, under {@code fence} (the shard owner's token and
   * hold identity), and raises the shard's horizon to {@code shardHorizon}.
   *
   * @param shardHorizon a transaction id below which every ballot of the shard's polls is folded
   *     once these polls are: the caller's cursor, when {@code polls} are all the polls of the
   *     shard with ballots between the shard's horizon and it
   * @param stillOwner asked just before commit; false rolls the fold back ({@link
   *     Outcome#ABANDONED}), so an owner that has just learnt of its loss writes nothing more
   */
  public CompletionStage<Result> fold(
      Sharding sharding,
      int shard,
      Fence fence,
      Collection<String> polls,
      long shardHorizon,
      BooleanSupplier stillOwner) {
    String[] ids = polls.toArray(new String[0]);
    return pool.withTransaction(
            conn ->
                fenceShard(conn, sharding, shard, fence, shardHorizon)
                    .compose(v -> count(conn, ids, true))
                    .compose(counts -> apply(conn, counts, stillOwner)))
        .recover(
            failure -> {
              if (failure instanceof Rollback rollback) {
                return Future.succeededFuture(rollback.result);
              }
              return Future.failedFuture(failure);
            })
        .toCompletionStage();
  }

  private static Future<Void> fenceShard(
      SqlConnection conn, Sharding sharding, int shard, Fence fence, long shardHorizon) {
    List<Object> params =
        FENCE_SHARD.params(List.of(shardHorizon), List.of(sharding.count(), shard), fence);
    return conn.preparedQuery(FENCE_SHARD.sql())
        .execute(Tuple.from(params))
        .compose(
            updated ->
                updated.rowCount() == 0
                    ? Future.failedFuture(new Rollback(new Result(Outcome.REJECTED, 0, -1)))
                    : Future.succeededFuture());
  }

  /** Per poll: the horizon read and the new ballots by option; the snapshot horizon. */
  private record Counts(long next, Map<String, Long> horizons, Map<String, Map<String, Long>> n) {}

  private static Future<Counts> count(SqlConnection conn, String[] polls, boolean mayCreate) {
    return conn.preparedQuery(COUNT_BALLOTS)
        .execute(Tuple.of(polls))
        .compose(
            rows -> {
              Counts counts = read(rows);
              if (counts.horizons().size() == polls.length) {
                return Future.succeededFuture(counts);
              }
              if (!mayCreate) {
                return Future.failedFuture(
                    new IllegalStateException("watermark rows missing after creating them"));
              }
              // A poll created without its watermark row (vote-api creates it with the poll).
              return conn.preparedQuery(ENSURE_WATERMARKS)
                  .execute(Tuple.of((Object) polls))
                  .compose(v -> count(conn, polls, false));
            });
  }

  private static Counts read(RowSet<Row> rows) {
    long next = -1;
    Map<String, Long> horizons = new TreeMap<>();
    Map<String, Map<String, Long>> n = new TreeMap<>();
    for (Row r : rows) {
      next = r.getLong("next");
      Long horizon = r.getLong("horizon");
      if (horizon == null) {
        continue;
      }
      String poll = r.getString("poll_id");
      horizons.put(poll, horizon);
      String option = r.getString("option");
      if (option != null) {
        n.computeIfAbsent(poll, p -> new TreeMap<>()).put(option, r.getLong("n"));
      }
    }
    return new Counts(next, horizons, n);
  }

  private static Future<Result> apply(
      SqlConnection conn, Counts counts, BooleanSupplier stillOwner) {
    List<String> tallyPolls = new ArrayList<>();
    List<String> tallyOptions = new ArrayList<>();
    List<Long> tallyCounts = new ArrayList<>();
    List<String> movedPolls = new ArrayList<>();
    List<Long> oldHorizons = new ArrayList<>();
    List<Long> movedCounts = new ArrayList<>();
    long total = 0;
    for (Map.Entry<String, Map<String, Long>> poll : counts.n().entrySet()) {
      long sum = 0;
      for (Map.Entry<String, Long> option : poll.getValue().entrySet()) {
        tallyPolls.add(poll.getKey());
        tallyOptions.add(option.getKey());
        tallyCounts.add(option.getValue());
        sum += option.getValue();
      }
      movedPolls.add(poll.getKey());
      oldHorizons.add(counts.horizons().get(poll.getKey()));
      movedCounts.add(sum);
      total += sum;
    }
    long next = counts.next();
    Future<Result> written;
    if (total == 0) {
      written = Future.succeededFuture(new Result(Outcome.NOTHING_NEW, 0, next));
    } else {
      long folded = total;
      written =
          conn.preparedQuery(ADD_TALLIES)
              .execute(
                  Tuple.of(
                      tallyPolls.toArray(new String[0]),
                      tallyOptions.toArray(new String[0]),
                      tallyCounts.toArray(new Long[0])))
              .compose(
                  v ->
                      conn.preparedQuery(MOVE_WATERMARKS)
                          .execute(
                              Tuple.of(
                                  next,
                                  movedPolls.toArray(new String[0]),
                                  oldHorizons.toArray(new Long[0]),
                                  movedCounts.toArray(new Long[0]))))
              .compose(
                  moved ->
                      moved.rowCount() == movedPolls.size()
                          ? Future.succeededFuture(new Result(Outcome.FOLDED, folded, next))
                          : Future.failedFuture(
                              new Rollback(new Result(Outcome.CONFLICT, 0, next))));
    }
    return written.compose(
        result ->
            stillOwner.getAsBoolean()
                ? Future.succeededFuture(result)
                : Future.failedFuture(new Rollback(new Result(Outcome.ABANDONED, 0, next))));
  }

  private static double orZero(Double d) {
    return d == null ? 0 : d;
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
