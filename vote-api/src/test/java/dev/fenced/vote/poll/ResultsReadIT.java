package dev.fenced.vote.poll;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.fenced.vote.FencedTestServers;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A poll's results are one query that never visits the ballots (so its cost does not grow with
 * them), and a replica reuses what it read until the cache interval ends or one of its own votes
 * changes the poll. The interval is an hour here, so what the cache answers is not a matter of
 * timing.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
@TestProfile(ResultsReadIT.LongCache.class)
class ResultsReadIT {

  /** Results reused for an hour unless a vote of this replica changes the poll. */
  public static class LongCache implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("fenced.results.cache-ttl", "1h");
    }
  }

  @Inject Pool pool;

  @Test
  void theResultsQueryReadsNoBallots() throws Exception {
    String poll = newPoll();
    vote(poll, "v-1", "cat");
    List<String> plan = new ArrayList<>();
    for (Row row :
        pool.preparedQuery("EXPLAIN (FORMAT JSON) " + ResultsReader.RESULTS)
            .execute(Tuple.of(poll))
            .toCompletionStage()
            .toCompletableFuture()
            .get()) {
      plan.add(row.getValue(0).toString());
    }
    String text = String.join("\n", plan).replace(" ", "");
    assertThat(text).as("the plan reads the counters").contains("\"RelationName\":\"counters\"");
    assertThat(text).as("the plan").doesNotContain("\"RelationName\":\"ballots\"");
  }

  @Test
  void aReplicaReusesItsReadUntilOneOfItsVotesChangesThePoll() throws Exception {
    String poll = newPoll();
    vote(poll, "v-1", "cat");
    results(poll).then().body("ballots", equalTo(1)).body("counts.cat", equalTo(1));

    // Written behind the service's back: the cached read does not see it.
    pool.preparedQuery("UPDATE counters SET count = count + 100 WHERE poll_id = $1 AND option = $2")
        .execute(Tuple.of(poll, "dog"))
        .toCompletionStage()
        .toCompletableFuture()
        .get();
    results(poll).then().body("counts.dog", equalTo(0));

    // A vote recorded here makes the next read fresh, with everything in the database.
    vote(poll, "v-2", "cat");
    results(poll)
        .then()
        .body("ballots", equalTo(2))
        .body("counts.cat", equalTo(2))
        .body("counts.dog", equalTo(100));
  }

  private static String newPoll() {
    String poll = FencedTestServers.REDIS + UUID.randomUUID().toString().substring(0, 8);
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("id", poll, "title", "Poll " + poll, "options", List.of("cat", "dog")))
        .post("/api/polls")
        .then()
        .statusCode(201);
    return poll;
  }

  private static void vote(String poll, String voter, String option) {
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("voter", voter, "option", option))
        .post("/api/polls/{id}/votes", poll)
        .then()
        .statusCode(201);
  }

  private static Response results(String poll) {
    return given().get("/api/polls/{id}/results", poll);
  }
}
