package dev.fenced.vote;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.File;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Readiness follows the lock backends of the policies in force: stopping the (private) Redis of
 * scripts/backends.sh takes the service out of rotation, starting it brings it back.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class ReadinessIT {

  @Test
  void readyGoesDownWithTheRedisBackendAndUpAgain() throws Exception {
    given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("status", equalTo("UP"))
        // each policy in force with its backend and the epoch in force: "Redis epoch 3 up in 1ms:
        // …"
        .body(
            "checks.find { it.name == 'lock backends' }.data.values()"
                + ".findAll { it ==~ /\\S+ epoch \\d+ up in .*/ }.size()",
            greaterThan(0));
    String poll = Api.pollId(FencedTestServers.REDIS);
    Api.createPoll(poll, List.of("cat")).then().statusCode(201);

    backends("down", "redis");
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  given()
                      .get("/q/health/ready")
                      .then()
                      .statusCode(503)
                      .body("status", equalTo("DOWN"))
                      .body("checks.find { it.name == 'lock backends' }.status", equalTo("DOWN")));
      given().get("/q/health/live").then().statusCode(200);
      Api.vote(poll, "v-1", "cat").then().statusCode(503).header("Retry-After", notNullValue());
    } finally {
      backends("up", "redis");
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                given()
                    .get("/q/health/ready")
                    .then()
                    .statusCode(200)
                    .body("status", equalTo("UP")));
    // Nothing was recorded by the 503; the circuit breaker, if it opened, lets calls through again.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> Api.vote(poll, "v-1", "cat").then().statusCode(201));
    Api.results(poll).then().body("ballots", equalTo(1)).body("counts.cat", equalTo(1));
  }

  /** Runs scripts/backends.sh with this JVM's environment (FENCED_HOME, ports). */
  private static void backends(String... args) throws Exception {
    File script = new File("../scripts/backends.sh").getCanonicalFile();
    List<String> command = new java.util.ArrayList<>(List.of("bash", script.getPath()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).inheritIO().start();
    if (process.waitFor() != 0) {
      throw new IllegalStateException("scripts/backends.sh " + String.join(" ", args) + " failed");
    }
  }
}
