package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.fenced.vote.Workload.Outcome;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code fenced.vote.counter=atomic}: no lock, the database increments the counter in the ballot's
 * own statement. Exact under the same parallel load that loses counts without a lock in {@code
 * ConcurrentVotesIT} (policy None), and no lock is taken: the poll is governed by the None policy,
 * whose read-then-write would fall short.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
@TestProfile(AtomicCounterIT.Atomic.class)
class AtomicCounterIT {

  /** The service in atomic mode. */
  public static class Atomic implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("fenced.vote.counter", "atomic");
    }
  }

  private static final int VOTES = 200;

  @TestHTTPResource("/")
  URI base;

  @Test
  void everyParallelVoteIsCountedWithoutALock() throws Exception {
    String poll = pollId(FencedTestServers.NONE);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);
    Scrape before = Scrape.now();

    Outcome outcome = Workload.run(base, poll, "cat", VOTES, 24);

    JsonPath results = Api.results(poll).then().statusCode(200).extract().jsonPath();
    assertThat(outcome.statuses()).isEqualTo(Map.of(201, VOTES));
    assertThat(results.getLong("ballots")).isEqualTo(VOTES);
    assertThat(results.getLong("counts.cat")).as("counts = ballots").isEqualTo(VOTES);
    Scrape after = Scrape.now();
    assertThat(after.since(before, "fenced_votes_total{outcome=\"recorded\"}")).isEqualTo(VOTES);
    assertThat(
            after.since(
                before, "fenced_lock_batch_votes_count{backend=\"None\",policy=\"voting/none\"}"))
        .as("no lock was taken")
        .isZero();
  }

  @Test
  void aVoteAnswersItsCountWithoutAFenceAndARepeatIsRefused() {
    String poll = pollId(FencedTestServers.REDIS);
    createPoll(poll, List.of("cat")).then().statusCode(201);
    Api.vote(poll, "v-1", "cat")
        .then()
        .statusCode(201)
        .body("count", equalTo(1))
        .body("fence", equalTo(0));
    Api.vote(poll, "v-1", "cat").then().statusCode(409).body("field", equalTo("voter"));
    Api.vote(poll, "v-2", "cat").then().statusCode(201).body("count", equalTo(2));
    Api.results(poll).then().body("ballots", equalTo(2)).body("counts.cat", equalTo(2));
  }

  @Test
  void readyWithoutLookingAtLockBackends() {
    io.restassured.RestAssured.given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body(
            "checks.find { it.name == 'lock backends' }.data.counter",
            equalTo("atomic: votes take no lock"));
  }
}
