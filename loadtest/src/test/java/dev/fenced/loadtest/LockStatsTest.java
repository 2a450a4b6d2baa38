package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LockStatsTest {

  // As Micrometer's Prometheus registry writes them.
  private static final String BEFORE =
      """
      # HELP fenced_lock_batch_votes Votes served per lock hold
      # TYPE fenced_lock_batch_votes summary
      fenced_lock_batch_votes_count{backend="Redis",policy="voting-locks"} 10.0
      fenced_lock_batch_votes_sum{backend="Redis",policy="voting-locks"} 30.0
      fenced_lock_batch_votes_max{backend="Redis",policy="voting-locks"} 8.0
      fenced_lock_hold_seconds_count{backend="Redis"} 10.0
      fenced_lock_hold_seconds_sum{backend="Redis"} 0.05
      fenced_lock_wait_seconds_count{backend="Redis",outcome="acquired"} 10.0
      fenced_lock_wait_seconds_sum{backend="Redis",outcome="acquired"} 0.5
      fenced_lock_wait_seconds_count{backend="Redis",outcome="failed"} 3.0
      fenced_lock_wait_seconds_sum{backend="Redis",outcome="failed"} 6.0
      fenced_votes_total{outcome="recorded"} 30.0
      """;

  @Test
  void readsTheLockMetersOfOneReplica() {
    LockStats s = LockStats.parse(BEFORE);
    assertThat(s).isEqualTo(new LockStats(10, 30, 10, 0.05, 10, 0.5, 1));
    assertThat(s.votesPerHold()).hasValue(3.0);
    assertThat(s.meanHoldMillis().getAsDouble()).isCloseTo(5.0, within(1e-9));
    assertThat(s.meanWaitMillis().getAsDouble()).isCloseTo(50.0, within(1e-9));
  }

  @Test
  void sumsReplicasAndSubtractsTheReadingBefore() {
    LockStats before = LockStats.parse(BEFORE).plus(LockStats.EMPTY);
    LockStats after =
        LockStats.parse(BEFORE.replace("} 10.0", "} 20.0").replace("} 30.0", "} 90.0"))
            .plus(LockStats.parse("fenced_lock_batch_votes_count{backend=\"Redis\"} 0.0\n"));
    LockStats phase = after.since(before);
    assertThat(phase.batchHolds()).isEqualTo(10);
    assertThat(phase.batchVotes()).isEqualTo(60);
    assertThat(phase.votesPerHold()).hasValue(6.0);
    assertThat(phase.replicas()).isEqualTo(2);
  }

  @Test
  void withoutTheBatchSeriesThereIsNoVotesPerHold() {
    LockStats s =
        LockStats.parse("fenced_lock_hold_seconds_count{backend=\"Redis\"} 555.0\n# EOF\n");
    assertThat(s.batchHolds()).isEqualTo(-1);
    assertThat(s.votesPerHold()).isEmpty();
    assertThat(s.since(LockStats.EMPTY).votesPerHold()).isEmpty();
    assertThat(LockStats.EMPTY.plus(LockStats.EMPTY).batchHolds()).isEqualTo(-1);
  }
}
