package dev.fenced.tally;

import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The live replicas, through the {@code tally_workers} heartbeat table (migration V2). It only
 * decides how many polls each replica tries to own; who may fold a poll is the lock's business.
 */
final class Membership {

  /** What one heartbeat learnt: the live workers (this one included) and every poll id. */
  record View(long liveWorkers, List<String> polls) {

    /** The most polls one worker should own: {@code ceil(polls / live workers)}. */
    int fairShare() {
      long live = Math.max(1, liveWorkers);
      return (int) ((polls.size() + live - 1) / live);
    }
  }

  /**
   * Beats, counts the others seen within the expiry, lists the polls, and forgets workers silent
   * for a hundred expiries, in one statement. The CTE's own write is invisible to the count, so
   * this worker is counted as the "+ 1".
   */
  private static final String BEAT =
      "WITH beat AS ("
          + " INSERT INTO tally_workers (worker_id) VALUES ($1)"
          + " ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now() RETURNING 1),"
          + " gone AS ("
          + " DELETE FROM tally_workers WHERE heartbeat_at < now() - $2::bigint * 100 * interval '1 millisecond'"
          + " AND worker_id <> $1 RETURNING 1)"
          + " SELECT (SELECT count(*) FROM tally_workers WHERE worker_id <> $1"
          + " AND heartbeat_at > now() - $2::bigint * interval '1 millisecond') + 1 AS live,"
          + " array(SELECT id FROM polls ORDER BY id) AS polls,"
          + " (SELECT count(*) FROM beat) + (SELECT count(*) FROM gone) AS touched";

  private static final String LEAVE = "DELETE FROM tally_workers WHERE worker_id = $1";

  private final Pool pool;
  private final String workerId;
  private final Duration expiry;

  Membership(Pool pool, String workerId, Duration expiry) {
    this.pool = pool;
    this.workerId = workerId;
    this.expiry = expiry;
  }

  CompletionStage<View> beat() {
    return pool.preparedQuery(BEAT)
        .execute(Tuple.of(workerId, expiry.toMillis()))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              String[] polls = row.getArrayOfStrings("polls");
              return new View(row.getLong("live"), List.of(polls));
            })
        .toCompletionStage();
  }

  /** Removes this worker's row so the others' share grows at once rather than after the expiry. */
  CompletionStage<Void> leave() {
    return pool.preparedQuery(LEAVE)
        .execute(Tuple.of(workerId))
        .<Void>mapEmpty()
        .toCompletionStage();
  }
}
