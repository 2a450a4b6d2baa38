package dev.fenced.vote;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The vote API as the tests call it. */
final class Api {

  private Api() {}

  /** A poll id no earlier run has used. */
  static String pollId(String prefix) {
    return prefix + UUID.randomUUID().toString().substring(0, 8);
  }

  static Response createPoll(String id, List<String> options) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("id", id, "title", "Poll " + id, "options", options))
        .post("/api/polls");
  }

  static Response vote(String poll, String voter, String option) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("voter", voter, "option", option))
        .post("/api/polls/{id}/votes", poll);
  }

  static Response results(String poll) {
    return given().get("/api/polls/{id}/results", poll);
  }

  static Response post(String path, String json) {
    return given().contentType(ContentType.JSON).body(json).post(path);
  }
}
