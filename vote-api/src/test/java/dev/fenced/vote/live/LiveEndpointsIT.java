package dev.fenced.vote.live;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.fenced.lock.FencingTokens;
import dev.fenced.vote.FencedTestServers;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The page's endpoints: the poll list, the pushed results and locks, and the locks view. */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class LiveEndpointsIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TestHTTPResource("/")
  URI base;

  @Inject LiveFeeds feeds;

  @Test
  void listsPollsNewestFirst() {
    String older = createPoll(FencedTestServers.REDIS, List.of("cat", "dog"));
    String newer = createPoll(FencedTestServers.REDIS, List.of("tea", "coffee"));
    List<String> ids =
        given()
            .get("/api/polls?limit=500")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("id");
    assertThat(ids).contains(older, newer);
    assertThat(ids.indexOf(newer)).isLessThan(ids.indexOf(older));
    given()
        .get("/api/polls?limit=1")
        .then()
        .statusCode(200)
        .body("size()", equalTo(1))
        .body("[0].options", equalTo(List.of("tea", "coffee")));
    for (String bad : List.of("0", "501", "many")) {
      given().get("/api/polls?limit=" + bad).then().statusCode(400).body("field", equalTo("limit"));
    }
  }

  @Test
  void resultsArePushedAsTheyChange() throws Exception {
    String poll = createPoll(FencedTestServers.REDIS, List.of("cat", "dog"));
    try (EventStream stream = EventStream.open(uri("/api/polls/" + poll + "/results/stream"))) {
      assertThat(stream.response().statusCode()).isEqualTo(200);
      assertThat(stream.response().headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
      // nginx passes the events on at once instead of buffering them.
      assertThat(stream.response().headers().firstValue("X-Accel-Buffering")).hasValue("no");
      JsonPath first = JsonPath.from(stream.next(WAIT));
      assertThat(first.getString("poll")).isEqualTo(poll);
      assertThat(first.getMap("counts")).isEqualTo(Map.of("cat", 0, "dog", 0));

      vote(poll, "v-1", "dog");
      JsonPath second = JsonPath.from(stream.nextContaining("\"ballots\":1", WAIT));
      assertThat(second.getMap("counts")).isEqualTo(Map.of("cat", 0, "dog", 1));
    }
  }

  @Test
  void aStreamOfAnUnknownPollIsA404() {
    given()
        .accept("text/event-stream")
        .get("/api/polls/no-such-poll/results/stream")
        .then()
        .statusCode(404)
        .contentType(ContentType.JSON)
        .body("field", equalTo("id"));
    given()
        .accept("text/event-stream")
        .get("/api/polls/no-such-poll/locks/stream")
        .then()
        .statusCode(404)
        .body("field", equalTo("id"));
    given()
        .get("/api/polls/no-such-poll/locks")
        .then()
        .statusCode(404)
        .body("field", equalTo("id"));
  }

  @Test
  void pagesWatchingOnePollShareOneFeedThatEndsWithThem() throws Exception {
    String poll = createPoll(FencedTestServers.REDIS, List.of("cat", "dog"));
    int before = feeds.watchedPolls();
    EventStream[] pages = new EventStream[5];
    for (int i = 0; i < pages.length; i++) {
      pages[i] = EventStream.open(uri("/api/polls/" + poll + "/results/stream"));
      pages[i].next(WAIT);
    }
    assertThat(feeds.watchedPolls()).isEqualTo(before + 1);
    for (EventStream page : pages) {
      page.close();
    }
    // The server notices the closed connections and stops reading the poll.
    await().atMost(WAIT).until(() -> feeds.watchedPolls() == before);
  }

  @Test
  void theLocksViewNamesThePolicyTheFencesAndThisReplicasNumbers() {
    String poll = createPoll(FencedTestServers.REDIS, List.of("cat", "dog"));
    JsonPath fresh =
        given().get("/api/polls/{id}/locks", poll).then().statusCode(200).extract().jsonPath();
    assertThat(fresh.getString("replica")).isNotBlank();
    assertThat(fresh.getList("locks.lock"))
        .containsExactly("vote:" + poll + ":cat", "vote:" + poll + ":dog");
    assertThat(fresh.getList("locks.fence", Long.class)).containsExactly(0L, 0L);
    assertThat(fresh.getList("locks.policy")).containsOnly("voting/redis-default");

    long fence = vote(poll, "v-1", "cat");
    JsonPath after =
        given().get("/api/polls/{id}/locks", poll).then().statusCode(200).extract().jsonPath();
    assertThat(after.getLong("locks[0].fence")).isEqualTo(fence);
    assertThat(after.getLong("locks[0].fenceEpoch")).isZero();
    assertThat(after.getLong("locks[0].fenceCounter")).isEqualTo(fence);
    assertThat(after.getLong("locks[1].fence")).isZero();
    assertThat(after.getString("policies[0].ref")).isEqualTo("voting/redis-default");
    assertThat(after.getString("policies[0].backend")).isEqualTo("Redis");
    assertThat(after.getLong("policies[0].epoch")).isZero();
    assertThat(after.getString("policies[0].ready")).isEqualTo("True");
    assertThat(after.getString("policies[0].maxWait")).isEqualTo("2s");
    assertThat(after.getLong("policies[0].metrics.waitAcquired.count")).isPositive();
    assertThat(after.getDouble("policies[0].metrics.waitAcquired.p99Ms")).isPositive();
    assertThat(after.getLong("policies[0].metrics.hold.count")).isPositive();
    assertThat(after.getLong("votes.recorded")).isPositive();
  }

  @Test
  void aPolicySwitchIsPushedWithTheNewBackendAndTheHigherEpoch() throws Exception {
    String prefix = "live-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    try (PolicyFiles policy = new PolicyFiles(prefix)) {
      policy.write(1, PolicyFiles.REDIS, "2s");
      String poll = prefix + "p";
      // The folder is read a moment after the file appears.
      await().atMost(WAIT).untilAsserted(() -> createPollIn(poll).then().statusCode(201));
      try (EventStream stream = EventStream.open(uri("/api/polls/" + poll + "/locks/stream"))) {
        // Governed by this policy, not by the folder's catch-all vote:* policy.
        stream.nextContaining("\"policy\":\"voting/" + policy.name() + "\"", WAIT);
        long redisFence = await().atMost(WAIT).until(() -> tryVote(poll, "v-1", "cat"), f -> f > 0);
        assertThat(FencingTokens.epoch(redisFence)).isEqualTo(1);

        policy.write(2, PolicyFiles.POSTGRES_LOCK_TABLE, "2s");
        JsonPath moved =
            JsonPath.from(stream.nextContaining("\"backend\":\"Postgres/LockTable\"", WAIT));
        assertThat(moved.getLong("policies[0].epoch")).isEqualTo(2);
        assertThat(moved.getString("policies[0].ref")).isEqualTo("voting/" + policy.name());

        long pgFence = await().atMost(WAIT).until(() -> tryVote(poll, "v-2", "cat"), f -> f > 0);
        assertThat(pgFence).isGreaterThan(redisFence);
        JsonPath written = JsonPath.from(stream.nextContaining("\"fence\":" + pgFence, WAIT));
        assertThat(written.getLong("locks[0].fenceEpoch")).isEqualTo(2);
      }
    }
  }

  private URI uri(String path) {
    return base.resolve(path);
  }

  private static String createPoll(String prefix, List<String> options) {
    String id = prefix + UUID.randomUUID().toString().substring(0, 8);
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("id", id, "title", "Poll " + id, "options", options))
        .post("/api/polls")
        .then()
        .statusCode(201);
    return id;
  }

  private static io.restassured.response.Response createPollIn(String id) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("id", id, "title", "Poll " + id, "options", List.of("cat", "dog")))
        .post("/api/polls");
  }

  private static long vote(String poll, String voter, String option) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("voter", voter, "option", option))
        .post("/api/polls/{id}/votes", poll)
        .then()
        .statusCode(201)
        .extract()
        .jsonPath()
        .getLong("fence");
  }

  /** The fence of a 201, or 0 for a 503 (the new backend not in force yet). */
  private static long tryVote(String poll, String voter, String option) {
    var answer =
        given()
            .contentType(ContentType.JSON)
            .body(Map.of("voter", voter, "option", option))
            .post("/api/polls/{id}/votes", poll);
    if (answer.statusCode() == 503) {
      return 0;
    }
    assertThat(answer.statusCode()).isEqualTo(201);
    return answer.jsonPath().getLong("fence");
  }
}
