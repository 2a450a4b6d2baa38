package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static dev.fenced.vote.Api.results;
import static dev.fenced.vote.Api.vote;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Design §5, call by call, every status code. */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class VoteApiContractIT {

  @Test
  void createPoll201ThenSamePoll200ThenOtherOptions409() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat", "dog"))
        .then()
        .statusCode(201)
        .header("Location", endsWith("/api/polls/" + id))
        .body("id", equalTo(id))
        .body("title", equalTo("Poll " + id))
        .body("options", equalTo(List.of("cat", "dog")));
    createPoll(id, List.of("cat", "dog")).then().statusCode(200).body("id", equalTo(id));
    createPoll(id, List.of("cat", "fish"))
        .then()
        .statusCode(409)
        .body("status", equalTo(409))
        .body("field", equalTo("options"));
  }

  @Test
  void createInvalidPoll400() {
    Api.post("/api/polls", "{\"id\":\"x\",\"title\":\"t\",\"options\":[]}")
        .then()
        .statusCode(400)
        .body("field", equalTo("options"));
  }

  @Test
  void getPoll200And404() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat", "dog")).then().statusCode(201);
    given()
        .get("/api/polls/{id}", id)
        .then()
        .statusCode(200)
        .body("id", equalTo(id))
        .body("title", equalTo("Poll " + id))
        .body("options", equalTo(List.of("cat", "dog")));
    given()
        .get("/api/polls/{id}", id + "-missing")
        .then()
        .statusCode(404)
        .body("status", equalTo(404))
        .body("field", equalTo("id"));
  }

  @Test
  void newPollHasZeroCountersAndWatermark() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat", "dog")).then().statusCode(201);
    results(id)
        .then()
        .statusCode(200)
        .body("poll", equalTo(id))
        .body("counts.cat", equalTo(0))
        .body("counts.dog", equalTo(0))
        .body("ballots", equalTo(0))
        .body("tally.cat", equalTo(0))
        .body("tallied", equalTo(0));
  }

  @Test
  void vote201ThenSameVoter409AndResultsCountOnce() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat", "dog")).then().statusCode(201);
    vote(id, "v-1", "cat")
        .then()
        .statusCode(201)
        .body("poll", equalTo(id))
        .body("option", equalTo("cat"))
        .body("voter", equalTo("v-1"))
        .body("count", equalTo(1));
    vote(id, "v-2", "cat").then().statusCode(201).body("count", equalTo(2));
    vote(id, "v-3", "dog").then().statusCode(201).body("count", equalTo(1));
    // Same voter, even for another option: 409, and nothing more is recorded.
    vote(id, "v-1", "dog")
        .then()
        .statusCode(409)
        .body("status", equalTo(409))
        .body("field", equalTo("voter"));
    results(id)
        .then()
        .statusCode(200)
        .body("counts.cat", equalTo(2))
        .body("counts.dog", equalTo(1))
        .body("ballots", equalTo(3))
        .body("tallied", equalTo(0));
  }

  @Test
  void fenceRisesWithEveryHold() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat")).then().statusCode(201);
    long first = vote(id, "a", "cat").then().statusCode(201).extract().jsonPath().getLong("fence");
    long second = vote(id, "b", "cat").then().statusCode(201).extract().jsonPath().getLong("fence");
    org.assertj.core.api.Assertions.assertThat(second).isGreaterThan(first);
  }

  @Test
  void voteUnknownOption400UnknownPoll404() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat", "dog")).then().statusCode(201);
    vote(id, "v-1", "fish").then().statusCode(400).body("field", equalTo("option"));
    vote(id + "-missing", "v-1", "cat").then().statusCode(404).body("field", equalTo("id"));
    results(id).then().body("ballots", equalTo(0));
  }

  @Test
  void voteMalformedBody400() {
    String id = pollId(FencedTestServers.REDIS);
    createPoll(id, List.of("cat")).then().statusCode(201);
    Api.post("/api/polls/" + id + "/votes", "{\"voter\":")
        .then()
        .statusCode(400)
        .body("field", equalTo("body"))
        .body("detail", org.hamcrest.Matchers.containsString("malformed JSON"));
  }

  @Test
  void results404() {
    results(pollId(FencedTestServers.REDIS))
        .then()
        .statusCode(404)
        .body("field", equalTo("id"))
        .header("Retry-After", nullValue());
  }
}
