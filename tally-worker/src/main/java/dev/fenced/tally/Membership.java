package dev.fenced.tally;

import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The live replicas, through the {@code tally_workers} heartbeat table (migration V2). It only
 * decides which shards each replica tries to own; who may fold a shard is the lock's business.
 */
final class Membership {

  /**
   * What one heartbeat learnt: the ids of the live workers, this one included, sorted.
   *
   * @param self this worker's id, one of {@code live}
   */
  record View(String self, List<String> live) {

    View {
      live = List.copyOf(live);
      if (!live.contains(self)) {
        throw new IllegalArgumentException("the live workers must include " + self);
      }
    }

    /** Before the first heartbeat: this worker alone. */
    static View alone(String self) {
      return new View(self, List.of(self));
    }

    int liveWorkers() {
      return live.size();
    }

    /** This worker's position among the live ones. */
    int rank() {
      return live.indexOf(self);
    }
  }

  /**
   * Beats, lists the others seen within the expiry, and forgets workers silent for a hundred
   * expiries, in one statement. The CTE's own write is invisible to the list, so this worker is
   * added to it by the caller. Reads only the membership table: nothing here grows with the polls.
   */
  private static final String BEAT =
      "WITH beat AS ("
          + " INSERT INTO tally_workers (worker_id) VALUES ($1)"
          + " ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now() RETURNING 1),"
          + " gone AS ("
          + " DELETE FROM tally_workers WHERE heartbeat_at < now() - $2::bigint * 100 * interval '1 millisecond'"
          + " AND worker_id <> $1 RETURNING 1)"
          + " SELECT array(SELECT worker_id FROM tally_workers WHERE worker_id <> $1"
          + " AND heartbeat_at > now() - $2::bigint * interval '1 millisecond') AS others,"
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
              List<String> live = new ArrayList<>(List.of(row.getArrayOfStrings("others")));
              live.add(workerId);
              live.sort(null);
              return new View(workerId, live);
            })
        .toCompletionStage();
  }

  /**
   * Removes this worker's row so the others take its shards at once rather than after the expiry.
   */
  CompletionStage<Void> leave() {
    return pool.preparedQuery(LEAVE)
        .execute(Tuple.of(workerId))
        .<Void>mapEmpty()
        .toCompletionStage();
  }
}
