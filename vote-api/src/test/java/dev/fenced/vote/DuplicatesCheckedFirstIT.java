package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static org.hamcrest.Matchers.equalTo;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code fenced.vote.check-duplicates-first=true}: a repeated voter is answered 409 from a read
 * before queueing, so it gets its answer even while the lock is held elsewhere.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
@TestProfile(DuplicatesCheckedFirstIT.CheckedFirst.class)
class DuplicatesCheckedFirstIT {

  /** The look-up before the lock switched on. */
  public static class CheckedFirst implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("fenced.vote.check-duplicates-first", "true");
    }
  }

  @Inject Vertx vertx;

  @Test
  void aRepeatedVoterIsRefusedWithoutWaitingForTheLock() {
    String poll = pollId(FencedTestServers.HELD);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);
    Api.vote(poll, "v-1", "cat").then().statusCode(201).body("count", equalTo(1));
    try (LockService other = FencedTestServers.otherReplica(vertx)) {
      LockHandle cat = other.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
      LockHandle dog = other.acquireBlocking("vote:" + poll + ":dog", Duration.ofSeconds(2));
      try {
        Api.vote(poll, "v-1", "cat").then().statusCode(409).body("field", equalTo("voter"));
        Api.vote(poll, "v-1", "dog").then().statusCode(409).body("field", equalTo("voter"));
        // A new voter does need the lock, and cannot have it: the check above is what answered.
        Api.vote(poll, "v-2", "cat").then().statusCode(503);
        org.assertj.core.api.Assertions.assertThat(cat.isHeld())
            .as("the other holder kept the lock throughout")
            .isTrue();
      } finally {
        LockService.await(cat.release());
        LockService.await(dog.release());
      }
    }
    Api.results(poll)
        .then()
        .body("ballots", equalTo(1))
        .body("counts.cat", equalTo(1))
        .body("counts.dog", equalTo(0));
  }
}
