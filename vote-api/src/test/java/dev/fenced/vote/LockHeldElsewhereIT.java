package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A lock held by someone else past the policy's maxWait: 503 with Retry-After, nothing recorded.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class LockHeldElsewhereIT {

  @Inject Vertx vertx;
  @Inject Pool pool;

  @Test
  void heldBeyondMaxWait503AndNothingRecorded() {
    String poll = pollId(FencedTestServers.HELD);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);
    try (LockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      try {
        Api.vote(poll, "v-1", "cat")
            .then()
            .statusCode(503)
            .header("Retry-After", notNullValue())
            .body("status", equalTo(503))
            .body("detail", org.hamcrest.Matchers.containsString("not acquired within"));
        // Another option's lock is free meanwhile.
        Api.vote(poll, "v-2", "dog").then().statusCode(201);
        Api.results(poll)
            .then()
            .body("ballots", equalTo(1))
            .body("counts.cat", equalTo(0))
            .body("counts.dog", equalTo(1));
      } finally {
        LockService.await(hold.release());
      }
      // Released: the same voter can now vote, so the 503 recorded nothing.
      Api.vote(poll, "v-1", "cat").then().statusCode(201).body("count", equalTo(1));
    }
  }

  /**
   * A voter who has voted is answered 409 from the ballots alone, without queueing for the counter
   * lock: with the lock held elsewhere past maxWait, a vote that needed it would answer 503.
   */
  @Test
  void byDefaultARepeatedVoterIsToldApartInsideTheHoldAndNothingIsRecordedWhileItWaits() {
    String poll = pollId(FencedTestServers.HELD);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);
    Api.vote(poll, "v-1", "cat").then().statusCode(201).body("count", equalTo(1));
    try (LockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle cat = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      try {
        // No look-up before the lock (fenced.vote.check-duplicates-first is off): the repeated
        // vote queues for the hold like any other, and the hold does not come.
        Api.vote(poll, "v-1", "cat").then().statusCode(503);
      } finally {
        LockService.await(cat.release());
      }
    }
    // With the lock free, the batch's insert answers it.
    Api.vote(poll, "v-1", "cat").then().statusCode(409).body("field", equalTo("voter"));
    Api.vote(poll, "v-1", "dog").then().statusCode(409).body("field", equalTo("voter"));
    Api.results(poll)
        .then()
        .body("ballots", equalTo(1))
        .body("counts.cat", equalTo(1))
        .body("counts.dog", equalTo(0));
  }

  @Test
  void staleFenceRollsBack503() throws Exception {
    String poll = pollId(FencedTestServers.REDIS);
    createPoll(poll, List.of("cat")).then().statusCode(201);
    // A holder with a token far above any Redis will issue has written the counter.
    pool.preparedQuery("UPDATE counters SET fence = $1 WHERE poll_id = $2")
        .execute(io.vertx.sqlclient.Tuple.of(Long.MAX_VALUE / 2, poll))
        .toCompletionStage()
        .toCompletableFuture()
        .get();

    Scrape before = Scrape.now();

    Api.vote(poll, "v-1", "cat")
        .then()
        .statusCode(503)
        .header("Retry-After", notNullValue())
        .body("detail", org.hamcrest.Matchers.containsString("newer lock holder"));
    Api.results(poll).then().body("ballots", equalTo(0)).body("counts.cat", equalTo(0));
    Scrape after = Scrape.now();
    org.assertj.core.api.Assertions.assertThat(
            after.since(before, "fenced_fence_rejections_total{backend=\"Redis\"}"))
        .isEqualTo(1);
    org.assertj.core.api.Assertions.assertThat(
            after.since(before, "fenced_votes_total{outcome=\"fence_rejected\"}"))
        .isEqualTo(1);
  }
}
