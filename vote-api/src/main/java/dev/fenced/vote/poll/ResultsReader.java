package dev.fenced.vote.poll;

import dev.fenced.vote.FencedConfig;
import dev.fenced.vote.api.Results;
import dev.fenced.vote.db.DbGuard;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A poll's results, read in one query whose cost does not depend on how many ballots the poll has:
 * per option the live counter, the exact ballot count kept next to it ({@code counters.ballots},
 * incremented in each ballot's own transaction), tally-worker's tally, and the watermark.
 *
 * <p>Each replica keeps what it read for {@code fenced.results.cache-ttl}, and concurrent reads of
 * one poll share one query (single flight), so many pages watching a poll cost one query per poll
 * per interval, not one per page. A vote recorded by this replica ({@link #changed}) makes the next
 * read of its poll fresh, so a client reading its own vote back through the same replica sees it;
 * other replicas' votes show up within the interval. A live stream of results (server-sent events)
 * can poll {@link #read} at that interval at no extra cost to the database.
 */
@ApplicationScoped
public class ResultsReader {

  /** Every option's numbers, in the poll's order of options; no row: no such poll. */
  static final String RESULTS =
      "SELECT c.option, c.count, c.ballots, COALESCE(t.count, 0) AS tally,"
          + " COALESCE(w.tallied, 0) AS tallied"
          + " FROM polls p"
          + " JOIN counters c ON c.poll_id = p.id"
          + " LEFT JOIN tallies t ON t.poll_id = c.poll_id AND t.option = c.option"
          + " LEFT JOIN tally_watermarks w ON w.poll_id = p.id"
          + " WHERE p.id = $1"
          + " ORDER BY array_position(p.options, c.option)";

  private static final int CACHE_LIMIT = 10_000;

  private record Entry(long readAt, CompletableFuture<Results> results) {}

  private final Pool pool;
  private final DbGuard db;
  private final long ttlNanos;
  private final ConcurrentHashMap<String, Entry> cache = new ConcurrentHashMap<>();

  ResultsReader(Pool pool, DbGuard db, FencedConfig config) {
    this.pool = pool;
    this.db = db;
    this.ttlNanos = config.results().cacheTtl().toNanos();
  }

  /** The poll's numbers, at most the cache interval old; null when there is no such poll. */
  public Uni<Results> read(String poll) {
    if (ttlNanos <= 0) {
      return query(poll);
    }
    long now = System.nanoTime();
    Entry[] mine = new Entry[1];
    Entry entry =
        cache.compute(
            poll,
            (id, current) -> {
              if (current != null && fresh(current, now)) {
                return current;
              }
              mine[0] = new Entry(now, new CompletableFuture<>());
              return mine[0];
            });
    if (mine[0] != null) {
      if (cache.size() > CACHE_LIMIT) {
        cache.clear();
      }
      query(poll)
          .subscribe()
          .with(
              mine[0].results()::complete,
              failure -> {
                cache.remove(poll, mine[0]);
                mine[0].results().completeExceptionally(failure);
              });
    }
    return Uni.createFrom().completionStage(entry.results());
  }

  /** A vote of {@code poll} was recorded here: the next read of it queries again. */
  public void changed(String poll) {
    cache.remove(poll);
  }

  private boolean fresh(Entry entry, long now) {
    CompletableFuture<Results> results = entry.results();
    if (!results.isDone()) {
      return true; // a query in flight: join it
    }
    return !results.isCompletedExceptionally() && now - entry.readAt() < ttlNanos;
  }

  private Uni<Results> query(String poll) {
    return db.call(
        () ->
            Uni.createFrom()
                .completionStage(
                    () ->
                        pool.preparedQuery(RESULTS)
                            .execute(Tuple.of(poll))
                            .map(rows -> results(poll, rows))
                            .toCompletionStage()));
  }

  private static Results results(String poll, RowSet<Row> rows) {
    if (rows.size() == 0) {
      return null;
    }
    Map<String, Long> counts = new LinkedHashMap<>();
    Map<String, Long> tally = new LinkedHashMap<>();
    long ballots = 0;
    long tallied = 0;
    for (Row row : rows) {
      String option = row.getString("option");
      counts.put(option, row.getLong("count"));
      tally.put(option, row.getLong("tally"));
      ballots += row.getLong("ballots");
      tallied = row.getLong("tallied");
    }
    return new Results(poll, counts, ballots, tally, tallied);
  }
}
