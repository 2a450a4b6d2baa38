package dev.fenced.tally;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tally-worker's cost does not grow with the number of idle polls: the same workload (two
 * workers, one poll receiving ballots) on a database without idle polls and on one with many,
 * counted on the servers themselves: rows PostgreSQL read from each table, transactions it
 * committed, and commands Redis ran (the lock renewals), per fold tick of the workers. The counts
 * are compared, not timed: with one lock and one membership read per poll, as the workers once had,
 * the crowded database costs thousands of times more of each.
 */
class TallyCostIT {

  private static final int IDLE_POLLS = 20_000;

  /**
   * Lock names are the same for every database on one Redis: a count no other test class runs with,
   * so no other worker in this JVM holds these shards.
   */
  private static final int SHARDS = 8;

  private static final int SCANS = 100;

  private static Vertx vertx;
  @TempDir Path temp;

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  /** What one measured run cost, per scan for new ballots. */
  record Cost(
      long scans,
      double seconds,
      Map<String, Long> rowsRead,
      long transactions,
      long redisCommands) {

    double rowsPerScan(String table) {
      return rowsRead.getOrDefault(table, 0L) / (double) scans;
    }

    double transactionsPerScan() {
      return transactions / (double) scans;
    }

    double redisPerScan() {
      return redisCommands / (double) scans;
    }
  }

  @Test
  void idlePollsCostNothingPerTick() throws Exception {
    // The crowded database first, on the colder JVM: any warm-up cost counts against it.
    Cost crowded = measure(IDLE_POLLS);
    Cost empty = measure(0);
    System.out.printf("tally cost without idle polls: %s%n", empty);
    System.out.printf("tally cost with %d idle polls: %s%n", IDLE_POLLS, crowded);

    // Idle polls are never read: not their rows, not their watermarks, not their tallies.
    for (String table : List.of("polls", "tally_watermarks", "tallies", "ballots")) {
      assertThat(crowded.rowsPerScan(table))
          .as("rows of %s read per scan with %d idle polls (%s without)", table, IDLE_POLLS, empty)
          .isLessThanOrEqualTo(empty.rowsPerScan(table) * 1.5 + 2);
    }
    assertThat(crowded.transactionsPerScan())
        .as("transactions per scan with %d idle polls (%s without)", IDLE_POLLS, empty)
        .isLessThanOrEqualTo(empty.transactionsPerScan() * 1.5 + 1);
    // Lock traffic follows the shards: a renewal per owned shard, none per poll.
    assertThat(crowded.redisPerScan())
        .as("Redis commands per scan with %d idle polls (%s without)", IDLE_POLLS, empty)
        .isLessThanOrEqualTo(empty.redisPerScan() * 1.5 + 1);
    assertThat(empty.redisPerScan()).isPositive();
  }

  /**
   * Two workers catch up on a database with {@code idle} polls that have ballots, and stop. Two new
   * workers then run {@link #SCANS} fold ticks while one poll receives ballots. Their connections
   * are closed before the counters are read, so PostgreSQL has flushed their statistics.
   */
  private Cost measure(int idle) throws Exception {
    try (TestDatabase db = new TestDatabase()) {
      Path policy = Replica.redisPolicy(temp, Duration.ofSeconds(2));
      db.execute(
          "INSERT INTO polls (id, title, options) SELECT 'idle-' || g, 'idle', '{cat,dog}'"
              + " FROM generate_series(1, ?) g",
          idle);
      db.execute(
          "INSERT INTO tally_watermarks (poll_id) SELECT id FROM polls WHERE id LIKE 'idle-%'");
      db.execute(
          "INSERT INTO ballots (poll_id, voter, option) SELECT id, v, 'cat' FROM polls,"
              + " (VALUES ('v1'), ('v2')) AS t(v) WHERE id LIKE 'idle-%'");
      db.createPoll("active", "cat", "dog");

      run(db, policy, "warm", n -> allTallied(db, idle));
      db.execute("VACUUM ANALYZE");
      Counters before = Counters.read(db);
      long start = System.nanoTime();
      int[] votes = {0};
      long scans =
          run(
              db,
              policy,
              "run",
              n -> {
                db.vote("active", "voter-" + votes[0]++, votes[0] % 2 == 0 ? "cat" : "dog");
                return n >= SCANS;
              });
      double seconds = (System.nanoTime() - start) / 1e9;
      Counters after = Counters.read(db);
      Map<String, Long> rows = new TreeMap<>();
      after.rowsRead.forEach((t, n) -> rows.put(t, n - before.rowsRead.getOrDefault(t, 0L)));
      return new Cost(
          scans,
          seconds,
          rows,
          after.transactions - before.transactions,
          after.redisCommands - before.redisCommands);
    }
  }

  private interface Step {
    /** Called every 50 ms with the scans the two workers have run; true ends the run. */
    boolean done(long scans) throws Exception;
  }

  /** Runs two workers until {@code step} says done; closes them; answers their scans. */
  private long run(TestDatabase db, Path policy, String name, Step step) throws Exception {
    List<Replica> pair = new ArrayList<>();
    try {
      for (String id : List.of(name + "-a", name + "-b")) {
        TallySettings s = Replica.settings(id).withShards(SHARDS);
        pair.add(new Replica(vertx, db, policy, id, s).start());
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> step.done(pair.stream().mapToLong(r -> r.worker.scans()).sum()));
      return pair.stream().mapToLong(r -> r.worker.scans()).sum();
    } finally {
      for (Replica r : pair) {
        r.close();
      }
    }
  }

  private static boolean allTallied(TestDatabase db, int idle) throws SQLException {
    return db.scalar("SELECT coalesce(sum(tallied), 0) FROM tally_watermarks") == 2L * idle;
  }

  /** Server-side counters: rows read per table of the test's schema, commits, Redis commands. */
  private record Counters(Map<String, Long> rowsRead, long transactions, long redisCommands) {

    /**
     * Waits until every connection of the test's database has ended (a backend flushes its
     * statistics as it exits), then reads.
     */
    static Counters read(TestDatabase db) throws Exception {
      Map<String, Long> rows = new TreeMap<>();
      long transactions;
      try (Connection c =
              DriverManager.getConnection(
                  TestDatabase.JDBC_URL, TestDatabase.USER, TestDatabase.PASSWORD);
          Statement s = c.createStatement()) {
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    TestDatabase.scalarOn(
                            c,
                            "SELECT count(*) FROM pg_stat_activity"
                                + " WHERE application_name = '"
                                + db.schema
                                + "'")
                        == 0);
        s.execute("SELECT pg_stat_clear_snapshot()");
        try (PreparedStatement q =
            c.prepareStatement(
                "SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
                    + " FROM pg_stat_user_tables WHERE schemaname = ?")) {
          q.setString(1, db.schema);
          try (ResultSet r = q.executeQuery()) {
            while (r.next()) {
              rows.put(r.getString(1), r.getLong(2));
            }
          }
        }
        try (ResultSet r =
            s.executeQuery(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
          r.next();
          transactions = r.getLong(1);
        }
      }
      return new Counters(rows, transactions, redisCalls());
    }
  }

  private static final Pattern CALLS =
      Pattern.compile("^cmdstat_[^:]+:calls=(\\d+)", Pattern.MULTILINE);

  /** The calls of every command Redis has run since it started ({@code INFO commandstats}). */
  static long redisCalls() throws IOException {
    URI uri = URI.create(Replica.REDIS_URL);
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      OutputStream out = socket.getOutputStream();
      out.write("INFO commandstats\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder header = new StringBuilder();
      for (int ch = in.read(); ch != '\n'; ch = in.read()) {
        if (ch < 0) {
          throw new IOException("Redis closed the connection");
        }
        header.append((char) ch);
      }
      int length = Integer.parseInt(header.toString().trim().substring(1));
      String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      Matcher m = CALLS.matcher(body);
      long total = 0;
      while (m.find()) {
        total += Long.parseLong(m.group(1));
      }
      return total;
    }
  }
}
