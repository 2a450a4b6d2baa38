package dev.fenced.vote;

import static dev.fenced.vote.Api.createPoll;
import static dev.fenced.vote.Api.pollId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.vote.Workload.Outcome;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The read-then-write of the counter under many parallel votes: with a lock every recorded vote is
 * counted; the same workload without one loses counts (the race, shown, so the locked runs' "no
 * loss" means something).
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class ConcurrentVotesIT {

  private static final int VOTES = 200;
  private static final int PARALLEL = 24;

  @TestHTTPResource("/")
  URI base;

  @Test
  void redisLockCountsEveryRecordedVote() throws Exception {
    assertEveryRecordedVoteCounted(FencedTestServers.REDIS, VOTES);
  }

  @Test
  void inProcessLockCountsEveryRecordedVote() throws Exception {
    assertEveryRecordedVoteCounted(FencedTestServers.IN_PROCESS, VOTES);
  }

  /** The RowLock run: the vote's statements run in the lock's own transaction. */
  @Test
  void postgresRowLockCountsEveryRecordedVote() throws Exception {
    assertEveryRecordedVoteCounted(FencedTestServers.ROW_LOCK, VOTES / 2);
  }

  /**
   * The race is a matter of timing: a round on a fresh poll can, rarely, see no overlap at all. Up
   * to three rounds run until one loses counts; every round must still record every ballot.
   */
  @Test
  void withoutALockCountsFallShortOfBallots() throws Exception {
    long lost = 0;
    for (int round = 1; round <= 3 && lost == 0; round++) {
      String poll = pollId(FencedTestServers.NONE);
      createPoll(poll, List.of("cat", "dog")).then().statusCode(201);

      Outcome outcome = Workload.run(base, poll, "cat", VOTES, PARALLEL);

      JsonPath results = Api.results(poll).then().statusCode(200).extract().jsonPath();
      report("None, round " + round, outcome, results);
      assertThat(outcome.count(201))
          .as("every vote recorded (None never refuses)")
          .isEqualTo(VOTES);
      assertThat(results.getLong("ballots")).isEqualTo(VOTES);
      lost = VOTES - results.getLong("counts.cat");
    }
    assertThat(lost).as("lost updates: the counter falls short of the ballots").isPositive();
  }

  private void assertEveryRecordedVoteCounted(String family, int votes) throws Exception {
    String poll = pollId(family);
    createPoll(poll, List.of("cat", "dog")).then().statusCode(201);

    Outcome outcome = Workload.run(base, poll, "cat", votes, PARALLEL);

    JsonPath results = Api.results(poll).then().statusCode(200).extract().jsonPath();
    report(family, outcome, results);
    int recorded = outcome.count(201);
    assertThat(outcome.statuses().keySet()).as("answers: %s", outcome).isSubsetOf(201, 503);
    assertThat(recorded).as("answers: %s", outcome).isGreaterThan(votes / 2);
    assertThat(results.getLong("ballots")).as("ballots = 201 answers").isEqualTo(recorded);
    assertThat(results.getLong("counts.cat")).as("counts = ballots").isEqualTo(recorded);
    assertThat(results.getLong("counts.dog")).isZero();
  }

  private static void report(String family, Outcome outcome, JsonPath results) {
    System.out.printf(
        "%s: answers %s, ballots %d, counts.cat %d%n",
        family, outcome.statuses(), results.getLong("ballots"), results.getLong("counts.cat"));
  }
}
