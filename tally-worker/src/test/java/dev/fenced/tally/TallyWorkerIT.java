package dev.fenced.tally;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.fencing.Fence;
import dev.fenced.tally.TallyMetrics.Change;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folding and ownership against the real PostgreSQL and Redis of scripts/backends.sh. */
class TallyWorkerIT {

  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Sharding SHARDING = new Sharding(4);

  private static Vertx vertx;
  @TempDir Path temp;
  private TestDatabase db;
  private Path policies;
  private final List<Replica> replicas = new ArrayList<>();

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @BeforeEach
  void setUp() throws Exception {
    db = new TestDatabase();
    policies = Replica.redisPolicy(temp, LEASE);
  }

  @AfterEach
  void tearDown() throws Exception {
    Exception first = null;
    for (Replica r : replicas) {
      try {
        r.close();
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    db.close();
    if (first != null) {
      throw first;
    }
  }

  private Replica replica(String name) {
    Replica r = new Replica(vertx, db, policies, name, Replica.settings(name));
    replicas.add(r);
    return r;
  }

  private static String pollId() {
    return "poll-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Concurrent writers, some transactions with several ballots and a pause before commit. */
  private long writeConcurrently(List<String> polls, int writers, int transactions)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<Integer>> written = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        written.add(
            pool.submit(
                () -> {
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  int n = 0;
                  try (Connection c = db.connect()) {
                    c.setAutoCommit(false);
                    for (int t = 0; t < transactions; t++) {
                      int inTx = 1 + random.nextInt(3);
                      for (int i = 0; i < inTx; i++) {
                        String poll = polls.get(random.nextInt(polls.size()));
                        String option = List.of("cat", "dog", "bird").get(random.nextInt(3));
                        TestDatabase.vote(c, poll, "w" + writer + "-" + t + "-" + i, option);
                        n++;
                      }
                      if (random.nextInt(4) == 0) {
                        Thread.sleep(random.nextInt(30));
                      }
                      c.commit();
                    }
                  }
                  return n;
                }));
      }
      long total = 0;
      for (Future<Integer> f : written) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      return total;
    } finally {
      pool.shutdown();
    }
  }

  private void assertExact(List<String> polls) throws SQLException {
    for (String p : polls) {
      assertThat(db.tallied(p)).as("tallied of " + p).isEqualTo(db.ballots(p));
      assertThat(db.tallySum(p)).as("tally of " + p).isEqualTo(db.ballots(p));
      assertThat(db.mismatches(p)).as("ballots minus tally per option of " + p).isEmpty();
    }
  }

  @Test
  void ballotsWrittenWhileFoldingAreFoldedExactlyOnce() throws Exception {
    List<String> polls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      polls.add(pollId());
    }
    for (String p : polls) {
      db.createPoll(p, "cat", "dog", "bird");
    }
    Replica a = replica("a").start();
    Replica b = replica("b").start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.owned().size() + b.worker.owned().size() == SHARDING.count());

    long total = writeConcurrently(polls, 4, 150);
    double foldsDuringLoad = a.worker.metrics().folds() + b.worker.metrics().folds();

    await().atMost(Duration.ofSeconds(30)).until(() -> sum(polls, db::tallied) == total);
    assertThat(foldsDuringLoad).as("folds while ballots were being written").isGreaterThan(1);
    assertThat(a.worker.metrics().folds()).as("folds by a").isPositive();
    assertThat(b.worker.metrics().folds()).as("folds by b").isPositive();
    assertExact(polls);
    assertThat(a.worker.metrics().rejections() + b.worker.metrics().rejections()).isZero();

    // A poll created while the shards are owned, without a watermark row: found by its ballots.
    String late = pollId();
    db.createPoll(late, "cat", "dog");
    db.vote(late, "v1", "cat");
    db.vote(late, "v2", "dog");
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(late) == 2);
    assertExact(List.of(late));
  }

  @Test
  void aBallotThatCommitsAfterLaterBallotsIsFoldedOnce() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    NaiveSeqFold naive = new NaiveSeqFold(db);
    Replica a = replica("a").start();
    for (int i = 0; i < 3; i++) {
      db.vote(poll, "early-" + i, "dog");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 3);

    try (Connection late = db.connect()) {
      late.setAutoCommit(false);
      // Takes its ballot seq now, becomes visible only at commit.
      TestDatabase.vote(late, poll, "late", "cat");
      for (int i = 0; i < 3; i++) {
        db.vote(poll, "later-" + i, "dog"); // larger seq, committed at once
      }
      naive.fold(poll);
      long scans = a.worker.scans();
      await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.scans() >= scans + 3);
      // The horizon cannot pass the open transaction, so nothing after it is folded yet.
      assertThat(db.tallied(poll)).isEqualTo(3);
      late.commit();
    }
    naive.fold(poll);
    assertThat(naive.total(poll))
        .as("a sequence watermark skips the late ballot: this scenario defeats it")
        .isEqualTo(6);

    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 7);
    long scans = a.worker.scans();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.scans() >= scans + 3);
    assertThat(db.tallied(poll)).isEqualTo(7);
    assertThat(db.tallySum(poll)).isEqualTo(7);
    assertThat(db.scalar("SELECT count FROM tallies WHERE poll_id = ? AND option = 'cat'", poll))
        .isEqualTo(1);
    assertThat(db.mismatches(poll)).isEmpty();
  }

  @Test
  void aStaleOwnersFoldIsRejectedAndTheNewOwnersSucceeds() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    int shard = SHARDING.shardOf(poll);
    String lock = SHARDING.lockName(shard);
    Replica a = replica("a");
    Replica b = replica("b");
    Folder folderA = new Folder(a.pool);
    Folder folderB = new Folder(b.pool);
    folderA.claim(SHARDING, shard).toCompletableFuture().get();

    LockHandle old = a.locks.acquire(lock).toCompletableFuture().get();
    a.keeper.pause(); // a process pause: no renewals, the lease lapses
    old.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
    LockHandle current = b.locks.acquire(lock).toCompletableFuture().get();
    assertThat(current.fencingToken()).isGreaterThan(old.fencingToken());

    db.vote(poll, "v1", "cat");
    db.vote(poll, "v2", "dog");
    assertThat(fold(folderB, poll, Fence.of(current)).outcome()).isEqualTo(Folder.Outcome.FOLDED);

    db.vote(poll, "v3", "cat");
    db.vote(poll, "v4", "cat");
    // The paused holder wakes up and folds with its old token, unaware of the loss.
    Folder.Result stale = fold(folderA, poll, Fence.of(old));
    assertThat(stale.outcome()).isEqualTo(Folder.Outcome.REJECTED);
    assertThat(db.tallied(poll)).isEqualTo(2);
    assertThat(db.tallySum(poll)).isEqualTo(2);

    Folder.Result fresh = fold(folderB, poll, Fence.of(current));
    assertThat(fresh.outcome()).isEqualTo(Folder.Outcome.FOLDED);
    assertThat(fresh.folded()).isEqualTo(2);
    assertThat(db.tallied(poll)).isEqualTo(4);
    assertThat(db.mismatches(poll)).isEmpty();
    assertThat(
            db.scalar(
                "SELECT fence FROM tally_shards WHERE shard_count = ? AND shard = ?",
                SHARDING.count(),
                shard))
        .isEqualTo(current.fencingToken());

    // The current token handed to a second hold (a failover lost the counter's last increment):
    // the equal token does not let it fold.
    db.vote(poll, "v5", "dog");
    Folder.Result twin = fold(folderA, poll, new Fence(current.fencingToken(), "another-hold"));
    assertThat(twin.outcome()).isEqualTo(Folder.Outcome.REJECTED);
    assertThat(db.tallied(poll)).isEqualTo(4);
    current.release().toCompletableFuture().get();
    a.keeper.resume();
  }

  @Test
  void aWorkerWhoseFoldIsFencedOutGivesTheShardUp() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    Replica a = replica("a").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 4);
    int shard = SHARDING.shardOf(poll);
    long token = a.worker.owned().get(shard).token();
    // A newer owner's write, as seen by storage.
    db.execute(
        "UPDATE tally_shards SET fence = ? WHERE shard_count = ? AND shard = ?",
        token + 1_000_000_000L,
        SHARDING.count(),
        shard);
    db.vote(poll, "v1", "cat");

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.metrics().changes(Change.REJECTED) >= 1);
    assertThat(a.worker.metrics().rejections()).isGreaterThanOrEqualTo(1);
    assertThat(db.tallied(poll)).isZero();
    assertThat(db.tallySum(poll)).isZero();
  }

  @Test
  void replicasShareShardsAndTakeOverACrashedOnesWithinALease() throws Exception {
    // Membership expiry well inside the lease and many heartbeats long, so that a worker whose
    // heartbeat is late on a loaded machine is not taken for gone while it lives.
    Duration lease = Duration.ofSeconds(4);
    Duration heartbeat = Duration.ofMillis(250);
    Path policy = Replica.redisPolicy(temp, lease);
    TallySettings quick = Replica.settings("a");
    List<Replica> pair = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Replica r =
          new Replica(
              vertx,
              db,
              policy,
              name,
              new TallySettings(name, quick.foldInterval(), heartbeat, Duration.ofMillis(2500), 4));
      replicas.add(r);
      pair.add(r);
    }
    Replica a = pair.get(0).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 4);
    Replica b = pair.get(1).start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.owned().size() == 2 && b.worker.owned().size() == 2);
    Set<Integer> shared = new HashSet<>(ownedShards(a));
    shared.addAll(ownedShards(b));
    assertThat(shared).containsExactlyInAnyOrder(0, 1, 2, 3);
    // Each of b's shards moved once: a let go of exactly those and took nothing back.
    assertThat(a.worker.metrics().changes(Change.RELEASED)).isEqualTo(2);
    assertThat(a.worker.metrics().changes(Change.ACQUIRED)).isEqualTo(4);
    assertThat(b.worker.metrics().changes(Change.ACQUIRED)).isEqualTo(2);

    List<Integer> orphaned = ownedShards(a);
    List<String> orphanedPolls = new ArrayList<>();
    for (int shard : orphaned) {
      orphanedPolls.add(pollIn(shard));
    }
    for (String p : orphanedPolls) {
      db.createPoll(p, "cat", "dog");
    }
    long crashedAt = System.nanoTime();
    a.crash();
    for (String p : orphanedPolls) {
      db.vote(p, "after-crash", "cat");
    }
    // The crashed holds lapse at most one lease after the crash, and a's membership has expired
    // before that; b's next try then wins. The margin covers one heartbeat, the acquire's round
    // trip and a busy machine's scheduling.
    await().atMost(lease.plus(Duration.ofMillis(1500))).until(() -> b.worker.owned().size() == 4);
    long tookOverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashedAt);
    System.out.printf(
        "take-over after the crash: %d ms (lease %d ms)%n", tookOverMillis, lease.toMillis());
    for (String p : orphanedPolls) {
      await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(p) == 1);
      assertThat(db.mismatches(p)).isEmpty();
    }
  }

  @Test
  void aWorkerStopsFoldingWhenItsLockIsLost() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    Replica a = replica("a").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 4);
    db.vote(poll, "v1", "cat");
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 1);

    a.worker.setAcquiring(false); // so the shards cannot come back to a after the loss
    a.keeper.pause();
    await().atMost(LEASE.plusSeconds(5)).until(() -> a.worker.metrics().changes(Change.LOST) == 4);
    assertThat(a.worker.owned()).isEmpty();

    db.vote(poll, "v2", "dog");
    db.vote(poll, "v3", "dog");
    // Nobody owns the shard now: its ballots wait.
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> db.tallied(poll) == 1);

    a.keeper.resume();
    Replica b = replica("b").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 3);
    assertThat(db.mismatches(poll)).isEmpty();
    assertThat(b.worker.metrics().rejections()).isZero();
  }

  @Test
  void withoutExclusionANewPollAmongIdleOnesIsFolded() throws Exception {
    // Shares that rely on the lock refusing what another worker holds leave polls without an
    // owner when nothing is refused: two workers filling their shares from the same random picks.
    // Shards follow the live workers instead, so every shard has an owner under None too.
    Path none = Replica.nonePolicy(temp);
    for (int i = 0; i < 40; i++) {
      db.createPoll("idle-" + i, "cat", "dog");
    }
    List<Replica> pair = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Replica r = new Replica(vertx, db, none, name, Replica.settings(name));
      replicas.add(r);
      pair.add(r.start());
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> pair.get(0).worker.liveWorkers() == 2 && pair.get(1).worker.liveWorkers() == 2);
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    for (int i = 0; i < 5; i++) {
      db.vote(poll, "v" + i, i % 2 == 0 ? "cat" : "dog");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 5);
    assertExact(List.of(poll));
  }

  @Test
  void withoutExclusionTwoOwnersOfEveryShardStillFoldEachBallotOnce() throws Exception {
    // The None policy grants every acquire; each replica has a membership table of its own, so
    // each believes it is alone and owns every shard: two owners of each, folding at once.
    Path none = Replica.nonePolicy(temp);
    Replica a = Replica.alone(vertx, db, none, "a", Replica.settings("a"));
    Replica b = Replica.alone(vertx, db, none, "b", Replica.settings("b"));
    replicas.add(a);
    replicas.add(b);
    List<String> polls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      polls.add(pollId());
    }
    for (String p : polls) {
      db.createPoll(p, "cat", "dog", "bird");
    }
    a.start();
    b.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.owned().size() == 4 && b.worker.owned().size() == 4);

    long total = writeConcurrently(polls, 4, 150);
    await().atMost(Duration.ofSeconds(30)).until(() -> sum(polls, db::tallied) == total);
    // Both folded: the shards really had two owners.
    assertThat(a.worker.metrics().folds()).as("folds by a").isPositive();
    assertThat(b.worker.metrics().folds()).as("folds by b").isPositive();
    assertExact(polls);
    assertThat(a.worker.metrics().rejections() + b.worker.metrics().rejections()).isZero();
    assertThat(a.worker.owned()).hasSize(4);
    assertThat(b.worker.owned()).hasSize(4);

    // What the fold's guards prevent: two folds that read the same horizon and both write.
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    db.execute("INSERT INTO tally_watermarks (poll_id) VALUES (?)", poll);
    a.close();
    b.close();
    for (int i = 0; i < 10; i++) {
      db.vote(poll, "v" + i, "cat");
    }
    UnguardedFold.twice(db, poll);
    assertThat(db.tallySum(poll))
        .as("two unguarded folds of the same ballots count them twice")
        .isEqualTo(20);
  }

  private static Folder.Result fold(Folder folder, String poll, Fence fence) throws Exception {
    return folder
        .fold(SHARDING, SHARDING.shardOf(poll), fence, List.of(poll), 0, () -> true)
        .toCompletableFuture()
        .get();
  }

  private static List<Integer> ownedShards(Replica r) {
    return r.worker.owned().stream().map(TallyWorker.OwnedShard::shard).toList();
  }

  /** A new poll id that falls in {@code shard}. */
  private static String pollIn(int shard) {
    while (true) {
      String id = pollId();
      if (SHARDING.shardOf(id) == shard) {
        return id;
      }
    }
  }

  private interface PerPoll {
    long get(String poll) throws SQLException;
  }

  private static long sum(List<String> polls, PerPoll f) throws SQLException {
    long total = 0;
    for (String p : polls) {
      total += f.get(p);
    }
    return total;
  }

  /**
   * The fold this module must not use: a watermark on the ballots' seq. A ballot takes its seq at
   * insert but is seen only at commit, so one committing after a larger seq was folded is skipped.
   */
  private static final class NaiveSeqFold {
    private final TestDatabase db;

    NaiveSeqFold(TestDatabase db) throws SQLException {
      this.db = db;
      try (Connection c = db.connect();
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE naive_marks (poll_id text PRIMARY KEY, last_seq bigint NOT NULL,"
                + " total bigint NOT NULL)");
      }
    }

    void fold(String poll) throws SQLException {
      db.execute(
          "INSERT INTO naive_marks (poll_id, last_seq, total) VALUES (?, 0, 0)"
              + " ON CONFLICT DO NOTHING",
          poll);
      db.execute(
          "UPDATE naive_marks m SET total = m.total + n.c, last_seq = greatest(m.last_seq, n.s)"
              + " FROM (SELECT count(*) AS c, coalesce(max(seq), 0) AS s FROM ballots"
              + " WHERE poll_id = ? AND seq > (SELECT last_seq FROM naive_marks WHERE poll_id = ?))"
              + " n WHERE m.poll_id = ?",
          poll,
          poll,
          poll);
    }

    long total(String poll) throws SQLException {
      return db.scalar("SELECT total FROM naive_marks WHERE poll_id = ?", poll);
    }
  }

  /**
   * Two folds of one poll without the fold's guards (no fenced row that orders them, no
   * compare-and-set of the horizon): both read the horizon before either writes, both add the same
   * ballots.
   */
  private static final class UnguardedFold {

    static void twice(TestDatabase db, String poll) throws Exception {
      try (Connection first = db.connect();
          Connection second = db.connect()) {
        first.setAutoCommit(false);
        second.setAutoCommit(false);
        long[] one = read(first, poll);
        long[] two = read(second, poll);
        write(first, poll, one);
        first.commit();
        write(second, poll, two);
        second.commit();
      }
    }

    /** The snapshot horizon and the ballots from the poll's horizon to it. */
    private static long[] read(Connection c, String poll) throws SQLException {
      try (var s =
          c.prepareStatement(
              "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
                  + " (SELECT count(*) FROM ballots b, tally_watermarks w WHERE w.poll_id = ?"
                  + " AND b.poll_id = w.poll_id AND b.tx >= w.horizon"
                  + " AND b.tx < pg_snapshot_xmin(pg_current_snapshot()))")) {
        s.setString(1, poll);
        try (var r = s.executeQuery()) {
          r.next();
          return new long[] {r.getLong(1), r.getLong(2)};
        }
      }
    }

    private static void write(Connection c, String poll, long[] read) throws SQLException {
      try (var s =
          c.prepareStatement(
              "INSERT INTO tallies (poll_id, option, count) VALUES (?, 'cat', ?)"
                  + " ON CONFLICT (poll_id, option) DO UPDATE SET count = tallies.count + EXCLUDED.count")) {
        s.setString(1, poll);
        s.setLong(2, read[1]);
        s.executeUpdate();
      }
      try (var s =
          c.prepareStatement(
              "UPDATE tally_watermarks SET horizon = ?::text::xid8, tallied = tallied + ?"
                  + " WHERE poll_id = ?")) {
        s.setLong(1, read[0]);
        s.setLong(2, read[1]);
        s.setString(3, poll);
        s.executeUpdate();
      }
    }
  }
}
