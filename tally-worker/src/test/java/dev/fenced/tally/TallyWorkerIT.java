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

  @Test
  void ballotsWrittenWhileFoldingAreFoldedExactlyOnce() throws Exception {
    List<String> polls = List.of(pollId(), pollId(), pollId());
    for (String p : polls) {
      db.createPoll(p, "cat", "dog", "bird");
    }
    Replica a = replica("a").start();
    Replica b = replica("b").start();

    // Writers: small transactions, some with several ballots and a pause before commit, so
    // transactions commit out of the order they were given ids in.
    ExecutorService writers = Executors.newFixedThreadPool(4);
    List<Future<Integer>> written = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int writer = w;
      written.add(
          writers.submit(
              () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                int n = 0;
                try (Connection c = db.connect()) {
                  c.setAutoCommit(false);
                  for (int t = 0; t < 150; t++) {
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
    writers.shutdown();
    double foldsDuringLoad = a.worker.metrics().folds() + b.worker.metrics().folds();

    long expected = total;
    await().atMost(Duration.ofSeconds(30)).until(() -> sum(polls, db::tallied) == expected);
    assertThat(foldsDuringLoad).as("folds while ballots were being written").isGreaterThan(1);
    for (String p : polls) {
      assertThat(db.tallied(p)).isEqualTo(db.ballots(p));
      assertThat(db.tallySum(p)).isEqualTo(db.ballots(p));
      assertThat(db.mismatches(p)).as("ballots minus tally per option of " + p).isEmpty();
    }
    assertThat(a.worker.metrics().rejections() + b.worker.metrics().rejections()).isZero();
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
      long runs = runs(a, poll);
      await().atMost(Duration.ofSeconds(10)).until(() -> runs(a, poll) >= runs + 3);
      // The horizon cannot pass the open transaction, so nothing after it is folded yet.
      assertThat(db.tallied(poll)).isEqualTo(3);
      late.commit();
    }
    naive.fold(poll);
    assertThat(naive.total(poll))
        .as("a sequence watermark skips the late ballot: this scenario defeats it")
        .isEqualTo(6);

    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 7);
    long runs = runs(a, poll);
    await().atMost(Duration.ofSeconds(10)).until(() -> runs(a, poll) >= runs + 3);
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
    Replica a = replica("a");
    Replica b = replica("b");
    Folder folderA = new Folder(a.pool);
    Folder folderB = new Folder(b.pool);
    folderA.ensureWatermark(poll).toCompletableFuture().get();

    LockHandle old = a.locks.acquire("tally:" + poll).toCompletableFuture().get();
    a.keeper.pause(); // a process pause: no renewals, the lease lapses
    old.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
    LockHandle current = b.locks.acquire("tally:" + poll).toCompletableFuture().get();
    assertThat(current.fencingToken()).isGreaterThan(old.fencingToken());

    db.vote(poll, "v1", "cat");
    db.vote(poll, "v2", "dog");
    assertThat(fold(folderB, poll, current).outcome()).isEqualTo(Folder.Outcome.FOLDED);

    db.vote(poll, "v3", "cat");
    db.vote(poll, "v4", "cat");
    // The paused holder wakes up and folds with its old token, unaware of the loss.
    Folder.Result stale = fold(folderA, poll, old);
    assertThat(stale.outcome()).isEqualTo(Folder.Outcome.REJECTED);
    assertThat(db.tallied(poll)).isEqualTo(2);
    assertThat(db.tallySum(poll)).isEqualTo(2);

    Folder.Result fresh = fold(folderB, poll, current);
    assertThat(fresh.outcome()).isEqualTo(Folder.Outcome.FOLDED);
    assertThat(fresh.folded()).isEqualTo(2);
    assertThat(db.tallied(poll)).isEqualTo(4);
    assertThat(db.mismatches(poll)).isEmpty();
    assertThat(db.scalar("SELECT fence FROM tally_watermarks WHERE poll_id = ?", poll))
        .isEqualTo(current.fencingToken());

    // The current token handed to a second hold (a failover lost the counter's last increment):
    // the equal token does not let it fold.
    db.vote(poll, "v5", "dog");
    Folder.Result twin =
        folderA
            .fold(poll, new Fence(current.fencingToken(), "another-hold"), () -> true)
            .toCompletableFuture()
            .get();
    assertThat(twin.outcome()).isEqualTo(Folder.Outcome.REJECTED);
    assertThat(db.tallied(poll)).isEqualTo(4);
    current.release().toCompletableFuture().get();
    a.keeper.resume();
  }

  @Test
  void aWorkerWhoseFoldIsFencedOutGivesThePollUp() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    Replica a = replica("a").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 1);
    long token = a.worker.owned().get(0).token();
    // A newer owner's write, as seen by storage.
    db.execute(
        "UPDATE tally_watermarks SET fence = ? WHERE poll_id = ?", token + 1_000_000_000L, poll);
    db.vote(poll, "v1", "cat");

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.metrics().changes(Change.REJECTED) >= 1);
    assertThat(a.worker.metrics().rejections()).isGreaterThanOrEqualTo(1);
    assertThat(db.tallied(poll)).isZero();
    assertThat(db.tallySum(poll)).isZero();
  }

  @Test
  void replicasSharePollsAndTakeOverACrashedOnesWithinALease() throws Exception {
    List<String> polls = List.of(pollId(), pollId(), pollId(), pollId());
    for (String p : polls) {
      db.createPoll(p, "cat", "dog");
    }
    Replica a = replica("a").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 4);
    Replica b = replica("b").start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.worker.owned().size() == 2 && b.worker.owned().size() == 2);
    Set<String> shared = new HashSet<>(owned(a));
    shared.addAll(owned(b));
    assertThat(shared).containsExactlyInAnyOrderElementsOf(polls);
    assertThat(a.worker.metrics().changes(Change.RELEASED)).isEqualTo(2);

    List<String> orphaned = owned(a);
    long crashedAt = System.nanoTime();
    a.crash();
    for (String p : orphaned) {
      db.vote(p, "after-crash", "cat");
    }
    // The crashed holds lapse at most one lease after the crash; b's next try then wins. The
    // margin covers one heartbeat interval and the acquire's round trip.
    await().atMost(LEASE.plus(Duration.ofMillis(1500))).until(() -> b.worker.owned().size() == 4);
    long tookOverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashedAt);
    System.out.printf(
        "take-over after the crash: %d ms (lease %d ms)%n", tookOverMillis, LEASE.toMillis());
    for (String p : orphaned) {
      await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(p) == 1);
      assertThat(db.mismatches(p)).isEmpty();
    }
  }

  @Test
  void aWorkerStopsFoldingAPollWhenItsLockIsLost() throws Exception {
    String poll = pollId();
    db.createPoll(poll, "cat", "dog");
    Replica a = replica("a").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.worker.owned().size() == 1);
    db.vote(poll, "v1", "cat");
    await().atMost(Duration.ofSeconds(10)).until(() -> db.tallied(poll) == 1);

    a.worker.setAcquiring(false); // so the poll cannot come back to a after the loss
    a.keeper.pause();
    await().atMost(LEASE.plusSeconds(5)).until(() -> a.worker.metrics().changes(Change.LOST) == 1);
    assertThat(a.worker.owned()).isEmpty();

    db.vote(poll, "v2", "dog");
    db.vote(poll, "v3", "dog");
    // Nobody owns the poll now: its ballots wait.
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

  private static Folder.Result fold(Folder folder, String poll, LockHandle handle)
      throws Exception {
    return folder.fold(poll, Fence.of(handle), () -> true).toCompletableFuture().get();
  }

  private static List<String> owned(Replica r) {
    return r.worker.owned().stream().map(TallyWorker.OwnedPoll::poll).toList();
  }

  private static long runs(Replica r, String poll) {
    return r.worker.owned().stream()
        .filter(o -> o.poll().equals(poll))
        .mapToLong(TallyWorker.OwnedPoll::runs)
        .sum();
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
}
