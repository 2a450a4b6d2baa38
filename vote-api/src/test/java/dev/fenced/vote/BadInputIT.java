package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every client mistake is a 4xx with a problem body naming the field; never a 500. */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {

  private static final String LONG = "x".repeat(129);
  private static final String POLL = Api.pollId(FencedTestServers.REDIS);

  private boolean created;

  /** Before each test, not all: RestAssured learns the test port only then. */
  @BeforeEach
  void poll() {
    if (!created) {
      createPoll(POLL, List.of("cat", "dog")).then().statusCode(201);
      created = true;
    }
  }

  static Stream<Arguments> badPolls() {
    return Stream.of(
        Arguments.of("malformed JSON", "{\"id\":", 400, "body"),
        Arguments.of("not an object", "[1,2]", 400, "body"),
        Arguments.of("empty body", "", 400, "body"),
        Arguments.of(
            "unknown field",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":[\"x\"],\"colour\":1}",
            400,
            "colour"),
        Arguments.of(
            "options not a list",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":\"x\"}",
            400,
            "options"),
        Arguments.of(
            "option not a string",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":[{}]}",
            400,
            "options[0]"),
        Arguments.of("missing id", "{\"title\":\"t\",\"options\":[\"x\"]}", 400, "id"),
        Arguments.of("blank id", "{\"id\":\"  \",\"title\":\"t\",\"options\":[\"x\"]}", 400, "id"),
        Arguments.of(
            "id too long",
            "{\"id\":\"" + LONG + "\",\"title\":\"t\",\"options\":[\"x\"]}",
            400,
            "id"),
        Arguments.of(
            "control character in id",
            "{\"id\":\"a\\u0000b\",\"title\":\"t\",\"options\":[\"x\"]}",
            400,
            "id"),
        Arguments.of(
            "blank title", "{\"id\":\"a\",\"title\":\"\",\"options\":[\"x\"]}", 400, "title"),
        Arguments.of("no options", "{\"id\":\"a\",\"title\":\"t\",\"options\":[]}", 400, "options"),
        Arguments.of("missing options", "{\"id\":\"a\",\"title\":\"t\"}", 400, "options"),
        Arguments.of(
            "duplicate option",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":[\"x\",\"y\",\"x\"]}",
            400,
            "options[2]"),
        Arguments.of(
            "blank option",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":[\"x\",\" \"]}",
            400,
            "options[1]"),
        Arguments.of(
            "option too long",
            "{\"id\":\"a\",\"title\":\"t\",\"options\":[\"" + LONG + "\"]}",
            400,
            "options[0]"),
        Arguments.of(
            "body over 16 KiB", "{\"id\":\"" + "a".repeat(17 * 1024) + "\"}", 413, "body"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badPolls")
  void badPoll(String what, String json, int status, String field) {
    Api.post("/api/polls", json)
        .then()
        .statusCode(status)
        .contentType(ContentType.JSON)
        .body("status", equalTo(status))
        .body("title", notNullValue())
        .body("detail", notNullValue())
        .body("field", equalTo(field));
  }

  static Stream<Arguments> badVotes() {
    return Stream.of(
        Arguments.of("malformed JSON", "{\"voter\"", 400, "body"),
        Arguments.of("empty body", "", 400, "body"),
        Arguments.of(
            "unknown field", "{\"voter\":\"v\",\"option\":\"cat\",\"weight\":2}", 400, "weight"),
        Arguments.of("voter not a string", "{\"voter\":[1],\"option\":\"cat\"}", 400, "voter"),
        Arguments.of("missing voter", "{\"option\":\"cat\"}", 400, "voter"),
        Arguments.of("blank voter", "{\"voter\":\" \",\"option\":\"cat\"}", 400, "voter"),
        Arguments.of(
            "voter too long", "{\"voter\":\"" + LONG + "\",\"option\":\"cat\"}", 400, "voter"),
        Arguments.of("missing option", "{\"voter\":\"v\"}", 400, "option"),
        Arguments.of("blank option", "{\"voter\":\"v\",\"option\":\"\"}", 400, "option"),
        Arguments.of(
            "option too long", "{\"voter\":\"v\",\"option\":\"" + LONG + "\"}", 400, "option"),
        Arguments.of("unknown option", "{\"voter\":\"v\",\"option\":\"fish\"}", 400, "option"),
        Arguments.of(
            "body over 16 KiB",
            "{\"voter\":\"" + "v".repeat(17 * 1024) + "\",\"option\":\"cat\"}",
            413,
            "body"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badVotes")
  void badVote(String what, String json, int status, String field) {
    Api.post("/api/polls/" + POLL + "/votes", json)
        .then()
        .statusCode(status)
        .contentType(ContentType.JSON)
        .body("status", equalTo(status))
        .body("field", equalTo(field));
    Api.results(POLL).then().statusCode(200).body("ballots", equalTo(0));
  }

  @Test
  void overLongPollIdInPath() {
    given().get("/api/polls/{id}", LONG).then().statusCode(400).body("field", equalTo("id"));
    given()
        .get("/api/polls/{id}/results", LONG)
        .then()
        .statusCode(400)
        .body("field", equalTo("id"));
    Api.vote(LONG, "v", "cat").then().statusCode(400).body("field", equalTo("id"));
  }

  @Test
  void blankPollIdInPath() {
    given().get("/api/polls/{id}", " ").then().statusCode(400).body("field", equalTo("id"));
  }

  @Test
  void wrongContentType() {
    given()
        .contentType(ContentType.TEXT)
        .body("voter=v")
        .post("/api/polls/{id}/votes", POLL)
        .then()
        .statusCode(415)
        .body("status", equalTo(415));
  }

  @Test
  void streamedBodyOver16KiBWithoutLength() {
    byte[] big = ("{\"voter\":\"" + "v".repeat(17 * 1024) + "\",\"option\":\"cat\"}").getBytes();
    given()
        .contentType(ContentType.JSON)
        .body(new java.io.ByteArrayInputStream(big)) // streamed: chunked, no Content-Length
        .post("/api/polls/{id}/votes", POLL)
        .then()
        .statusCode(413)
        .body("field", equalTo("body"));
  }
}
