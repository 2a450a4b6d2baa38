package dev.fenced.vote;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.vote.ballot.LockedVotes;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The lock and vote series move as the votes go: under contention one hold serves several votes
 * (votes per hold above 1), each hold is one wait and one hold time, and refusals land in their own
 * series. Each check compares two scrapes, so a series that is merely there proves nothing.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class MetricsIT {

  private static final String BATCH_POLICY = "backend=\"Redis\",policy=\"voting/redis-batch\"";
  private static final String HELD_POLICY = "backend=\"Redis\",policy=\"voting/redis-held\"";

  @TestHTTPResource("/")
  URI base;

  @Inject Vertx vertx;
  @Inject LockedVotes locked;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void underContentionOneHoldServesSeveralVotesAndEachSeriesMoves() throws Exception {
    String poll = Api.pollId(FencedTestServers.BATCH);
    Api.createPoll(poll, List.of("cat")).then().statusCode(201);
    Scrape before = Scrape.now();

    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    try (LockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      for (int i = 0; i < 5; i++) {
        answers.add(vote(poll, "v-" + i));
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> locked.queued(poll, "cat") == 5);
      LockService.await(hold.release());
    }
    for (CompletableFuture<HttpResponse<String>> answer : answers) {
      assertThat(answer.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    }

    Scrape after = Scrape.now();
    double holds = after.since(before, "fenced_lock_batch_votes_count{" + BATCH_POLICY + "}");
    double votes = after.since(before, "fenced_lock_batch_votes_sum{" + BATCH_POLICY + "}");
    assertThat(holds).as("holds").isEqualTo(1);
    assertThat(votes / holds).as("votes per hold").isEqualTo(5);
    assertThat(after.value("fenced_lock_batch_votes_max{" + BATCH_POLICY + "}"))
        .isGreaterThanOrEqualTo(5);
    assertThat(
            after.since(
                before,
                "fenced_lock_wait_seconds_count{backend=\"Redis\",outcome=\"acquired\","
                    + "policy=\"voting/redis-batch\"}"))
        .as("one acquire for five votes")
        .isEqualTo(1);
    assertThat(after.since(before, "fenced_lock_hold_seconds_count{" + BATCH_POLICY + "}"))
        .isEqualTo(1);
    assertThat(after.since(before, "fenced_lock_hold_seconds_sum{" + BATCH_POLICY + "}"))
        .isPositive();
    assertThat(after.since(before, "fenced_votes_total{outcome=\"recorded\"}")).isEqualTo(5);
  }

  @Test
  void aVoteThatCannotHaveTheLockMovesTheFailureSeries() {
    String poll = Api.pollId(FencedTestServers.HELD);
    Api.createPoll(poll, List.of("cat")).then().statusCode(201);
    Scrape before = Scrape.now();
    try (LockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      Api.vote(poll, "v-2", "cat").then().statusCode(503);
      LockService.await(hold.release());
    }

    Scrape after = Scrape.now();
    assertThat(
            after.since(
                before, "fenced_lock_acquire_failures_total{backend=\"Redis\",reason=\"TIMEOUT\"}"))
        .isEqualTo(1);
    assertThat(
            after.since(
                before,
                "fenced_lock_wait_seconds_count{backend=\"Redis\",outcome=\"failed\","
                    + "policy=\"voting/redis-held\"}"))
        .isEqualTo(1);
    assertThat(after.since(before, "fenced_lock_hold_seconds_count{" + HELD_POLICY + "}"))
        .as("no hold")
        .isZero();
    assertThat(after.since(before, "fenced_votes_total{outcome=\"lock_timeout\"}")).isEqualTo(1);
  }

  @Test
  void openApi() {
    given()
        .get("/q/openapi")
        .then()
        .statusCode(200)
        .body(containsString("/api/polls/{id}/votes"))
        .body(containsString("VoteRequest"));
  }

  private CompletableFuture<HttpResponse<String>> vote(String poll, String voter) {
    return http.sendAsync(
        HttpRequest.newBuilder(base.resolve("/api/polls/" + poll + "/votes"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"voter\":\"" + voter + "\",\"option\":\"cat\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
