package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.redis.RedisLockService;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.vote.ballot.LockedVotes;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Votes queued behind a hold that the test keeps (as another replica would) form one batch when it
 * is released: one hold, one transaction for all of them. What a batch answers when some of its
 * voters have voted, when a newer holder has written the counter meanwhile, and when its own hold
 * lapses in the middle of its transaction: checked against the database itself.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class BatchVotesIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TestHTTPResource("/")
  URI base;

  @Inject Vertx vertx;
  @Inject Pool pool;
  @Inject LockedVotes locked;
  @Inject LeaseKeeper keeper;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void oneBatchRecordsItsFreshVotersEachWithItsOwnCountAndRefusesTheRepeatedOnes()
      throws Exception {
    String poll = pollId(FencedTestServers.BATCH);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);
    Map<String, CompletableFuture<HttpResponse<String>>> answers = new LinkedHashMap<>();
    try (RedisLockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      for (String voter : List.of("fresh-1", "twice", "late", "fresh-2", "fresh-3")) {
        answers.put(voter, vote(poll, voter));
      }
      CompletableFuture<HttpResponse<String>> again = vote(poll, "twice");
      awaitQueued(poll, 6);
      // Meanwhile another replica records "late" (its ballot and its count) under its hold.
      sql(
          "WITH b AS (INSERT INTO ballots (poll_id, voter, option) VALUES ($1, 'late', 'cat')"
              + " RETURNING 1) UPDATE counters SET count = count + 1, ballots = ballots + 1"
              + " WHERE poll_id = $1 AND option = 'cat'",
          Tuple.of(poll));
      LockService.await(hold.release());

      List<Integer> counts = new ArrayList<>();
      List<Long> fences = new ArrayList<>();
      for (String voter : List.of("fresh-1", "fresh-2", "fresh-3")) {
        JsonObject body = created(answers.get(voter));
        counts.add(body.getInteger("count"));
        fences.add(body.getLong("fence"));
      }
      assertThat(answers.get("late").get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(409);
      List<Integer> twice =
          List.of(
              answers.get("twice").get(20, TimeUnit.SECONDS).statusCode(),
              again.get(20, TimeUnit.SECONDS).statusCode());
      assertThat(twice).as("the same voter twice in one batch").containsExactlyInAnyOrder(201, 409);
      int twiceCount =
          new JsonObject(
                  (answers.get("twice").get().statusCode() == 201 ? answers.get("twice") : again)
                      .get()
                      .body())
              .getInteger("count");
      counts.add(twiceCount);

      // "late" was count 1; the batch's four new voters are 2..5, each its own position.
      assertThat(counts).containsExactlyInAnyOrder(2, 3, 4, 5);
      assertThat(fences).as("one hold served them all").containsOnly(fences.get(0));
      assertThat(fences.get(0)).isGreaterThan(hold.fencingToken());
    }
    Row counter = counter(poll, "cat");
    assertThat(counter.getLong("count")).isEqualTo(5);
    assertThat(counter.getLong("ballots")).isEqualTo(5);
    assertThat(ballots(poll)).isEqualTo(5);
  }

  @Test
  void aBatchWhoseFenceIsStaleIsRefusedWholeAndRecordsNothing() throws Exception {
    String poll = pollId(FencedTestServers.BATCH);
    createPoll(poll, List.of("cat")).then().statusCode(201);
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    try (RedisLockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      for (int i = 0; i < 5; i++) {
        answers.add(vote(poll, "v-" + i));
      }
      awaitQueued(poll, 5);
      // A holder with a token above any this Redis will hand out has written the counter.
      sql(
          "UPDATE counters SET fence = $2, fence_holder = 'newer' WHERE poll_id = $1",
          Tuple.of(poll, Long.MAX_VALUE / 2));
      LockService.await(hold.release());
    }

    for (CompletableFuture<HttpResponse<String>> answer : answers) {
      HttpResponse<String> response = answer.get(20, TimeUnit.SECONDS);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).isPresent();
      assertThat(response.body()).contains("newer lock holder");
    }
    assertThat(ballots(poll)).as("ballots in the database").isZero();
    Row counter = counter(poll, "cat");
    assertThat(counter.getLong("count")).isZero();
    assertThat(counter.getLong("ballots")).isZero();
    assertThat(counter.getString("fence_holder")).isEqualTo("newer");
  }

  /**
   * The batch's statement waits on the counter row (held by the test), renewals stop as in a
   * process pause, the lease lapses and another holder takes the lock; then the statement goes on.
   * The fence cannot tell (the new holder has not written yet): the check of the hold right before
   * the commit does, and the batch is rolled back whole.
   */
  @Test
  void aBatchWhoseLeaseIsLostMidTransactionRecordsNothing() throws Exception {
    String poll = pollId(FencedTestServers.SHORT_LEASE);
    createPoll(poll, List.of("cat")).then().statusCode(201);
    String lock = "vote:" + poll + ":cat";
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    SqlConnection rowLock = get(pool.getConnection());
    try (RedisLockService other = FencedTestServers.otherReplica(vertx)) {
      get(rowLock.query("BEGIN").execute());
      get(
          rowLock
              .preparedQuery("SELECT 1 FROM counters WHERE poll_id = $1 FOR UPDATE")
              .execute(Tuple.of(poll)));
      LockHandle first = other.acquireBlocking(lock, Duration.ofSeconds(2));
      for (int i = 0; i < 3; i++) {
        answers.add(vote(poll, "v-" + i));
      }
      awaitQueued(poll, 3);
      LockService.await(first.release());
      // The batch has its hold and its statement waits on the counter row.
      await().atMost(WAIT).until(() -> locked.queued(poll, "cat") == 0 && waitingOnRowLock());
      keeper.pause();
      LockHandle next;
      try {
        // Another holder gets the lock once the lease has lapsed.
        next = await().atMost(WAIT).until(() -> tryAcquire(other, lock), h -> h != null);
      } finally {
        keeper.resume();
      }
      get(rowLock.query("ROLLBACK").execute());

      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        HttpResponse<String> response = answer.get(20, TimeUnit.SECONDS);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        assertThat(response.body()).contains("ended before its transaction committed");
      }
      LockService.await(next.release());
    } finally {
      rowLock.close();
    }
    assertThat(ballots(poll)).as("ballots in the database").isZero();
    assertThat(counter(poll, "cat").getLong("count")).isZero();
  }

  /**
   * An older holder (token 1, as a replica paused past its lease) has written the counter and not
   * committed; the batch of the current holder arrives and waits on the row; then the older
   * transaction commits. Its write passed its fence (nobody newer had written yet), so it is kept,
   * and the batch must count on top of it: a batch that reads the counter from its statement's
   * snapshot writes {@code 0 + 1} over the older {@code 1} and a vote that was answered 201 is
   * lost.
   */
  @Test
  void anOlderHoldersCommitWhileTheBatchWaitsOnTheRowIsCountedNotOverwritten() throws Exception {
    String poll = pollId(FencedTestServers.BATCH);
    createPoll(poll, List.of("cat")).then().statusCode(201);
    SqlConnection older = get(pool.getConnection());
    try {
      get(older.query("BEGIN").execute());
      get(
          older
              .preparedQuery(
                  "WITH b AS (INSERT INTO ballots (poll_id, voter, option)"
                      + " VALUES ($1, 'older', 'cat') RETURNING 1)"
                      + " UPDATE counters SET count = count + 1, ballots = ballots + 1,"
                      + " fence = 1, fence_holder = 'older' WHERE poll_id = $1 AND option = 'cat'")
              .execute(Tuple.of(poll)));
      CompletableFuture<HttpResponse<String>> answer = vote(poll, "current");
      await().atMost(WAIT).until(this::waitingOnRowLock);
      get(older.query("COMMIT").execute());

      JsonObject body = created(answer);
      assertThat(body.getInteger("count")).as("counted after the older vote").isEqualTo(2);
      assertThat(body.getLong("fence")).isGreaterThan(1);
    } finally {
      older.close();
    }
    Row counter = counter(poll, "cat");
    assertThat(counter.getLong("ballots")).isEqualTo(2);
    assertThat(counter.getLong("count")).as("the count, both votes").isEqualTo(2);
    assertThat(ballots(poll)).isEqualTo(2);
  }

  private static LockHandle tryAcquire(LockService locks, String name) {
    try {
      return locks.acquireBlocking(name, Duration.ZERO);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private boolean waitingOnRowLock() {
    Row row =
        get(pool.preparedQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND query LIKE 'WITH inserted AS%'")
                .execute())
            .iterator()
            .next();
    return row.getLong(0) > 0;
  }

  private void awaitQueued(String poll, int votes) {
    await().atMost(WAIT).until(() -> locked.queued(poll, "cat") == votes);
  }

  private CompletableFuture<HttpResponse<String>> vote(String poll, String voter) {
    HttpRequest request =
        HttpRequest.newBuilder(base.resolve("/api/polls/" + poll + "/votes"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    new JsonObject().put("voter", voter).put("option", "cat").encode()))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject created(CompletableFuture<HttpResponse<String>> answer)
      throws Exception {
    HttpResponse<String> response = answer.get(20, TimeUnit.SECONDS);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return new JsonObject(response.body());
  }

  private void sql(String statement, Tuple params) {
    get(pool.preparedQuery(statement).execute(params));
  }

  private long ballots(String poll) {
    return get(pool.preparedQuery("SELECT count(*) FROM ballots WHERE poll_id = $1")
            .execute(Tuple.of(poll)))
        .iterator()
        .next()
        .getLong(0);
  }

  private Row counter(String poll, String option) {
    return get(pool.preparedQuery(
                "SELECT count, ballots, fence, fence_holder FROM counters"
                    + " WHERE poll_id = $1 AND option = $2")
            .execute(Tuple.of(poll, option)))
        .iterator()
        .next();
  }

  private static <T> T get(io.vertx.core.Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
