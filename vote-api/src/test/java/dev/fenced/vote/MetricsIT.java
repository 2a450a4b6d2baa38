package dev.fenced.vote;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.redis.RedisLockConfig;
import dev.fenced.lock.redis.RedisLockService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The named series are exported for Prometheus, and OpenAPI is served. */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class MetricsIT {

  @Inject Vertx vertx;

  @Test
  void lockAndVoteSeries() {
    String poll = Api.pollId(FencedTestServers.HELD);
    Api.createPoll(poll, List.of("cat")).then().statusCode(201);
    Api.vote(poll, "v-1", "cat").then().statusCode(201);
    try (LockService other =
        new RedisLockService(
            vertx,
            new RedisLockConfig(
                FencedTestServers.REDIS_URL, null, LockServiceFactory.REDIS_KEY_PREFIX),
            LockSettings.DEFAULTS,
            null)) {
      LockHandle hold = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      Api.vote(poll, "v-2", "cat").then().statusCode(503);
      LockService.await(hold.release());
    }

    given()
        .get("/q/metrics")
        .then()
        .statusCode(200)
        .body(
            containsString(
                "fenced_lock_wait_seconds_bucket{backend=\"Redis\",outcome=\"acquired\""))
        .body(
            containsString("fenced_lock_wait_seconds_bucket{backend=\"Redis\",outcome=\"failed\""))
        .body(containsString("fenced_lock_hold_seconds_bucket{backend=\"Redis\""))
        .body(
            containsString(
                "fenced_lock_acquire_failures_total{backend=\"Redis\",reason=\"TIMEOUT\"}"))
        .body(containsString("fenced_votes_total{outcome=\"recorded\"}"))
        .body(containsString("fenced_votes_total{outcome=\"lock_timeout\"}"));
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
}
