package dev.fenced.tally;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TallySettingsTest {

  @Test
  void liveWorkersWantDisjointFairSharesThatCoverEveryShard() {
    Sharding sharding = new Sharding(16);
    for (int live = 1; live <= 20; live++) {
      Set<Integer> covered = new HashSet<>();
      int smallest = Integer.MAX_VALUE;
      int largest = 0;
      for (int rank = 0; rank < live; rank++) {
        List<Integer> wanted = sharding.wanted(rank, live);
        for (int shard : wanted) {
          assertThat(covered.add(shard))
              .as("shard %d wanted twice with %d live", shard, live)
              .isTrue();
        }
        smallest = Math.min(smallest, wanted.size());
        largest = Math.max(largest, wanted.size());
      }
      assertThat(covered).as("%d live workers", live).hasSize(16);
      assertThat(largest - smallest).as("shares with %d live workers", live).isLessThanOrEqualTo(1);
    }
    assertThat(sharding.wanted(0, 1)).hasSize(16);
    assertThatThrownBy(() -> sharding.wanted(2, 2)).hasMessageContaining("rank 2 of 2");
  }

  @Test
  void aPollsShardIsStableAndPollsSpreadOverAllShards() {
    Sharding sharding = new Sharding(16);
    // CRC-32 of the UTF-8 bytes: the same in every process and release.
    assertThat(sharding.shardOf("cats-vs-dogs")).isEqualTo(sharding.shardOf("cats-vs-dogs"));
    assertThat(new Sharding(1).shardOf("anything")).isZero();
    int[] perShard = new int[16];
    List<String> polls = new ArrayList<>();
    for (int i = 0; i < 16_000; i++) {
      polls.add("poll-" + i);
    }
    polls.forEach(p -> perShard[sharding.shardOf(p)]++);
    for (int n : perShard) {
      assertThat(n).isBetween(800, 1200);
    }
    assertThat(sharding.lockName(3)).isEqualTo("tally:shard-3-of-16");
  }

  @Test
  void theViewRanksThisWorkerAmongTheLiveOnes() {
    Membership.View view = new Membership.View("b", List.of("a", "b", "c"));
    assertThat(view.rank()).isEqualTo(1);
    assertThat(view.liveWorkers()).isEqualTo(3);
    assertThat(Membership.View.alone("x").rank()).isZero();
    assertThatThrownBy(() -> new Membership.View("z", List.of("a")))
        .hasMessageContaining("must include z");
  }

  @Test
  void rejectsSettingsThatCannotWorkNamingTheField() {
    Duration s = Duration.ofSeconds(1);
    assertThatThrownBy(() -> new TallySettings(" ", s, s, s.multipliedBy(3), 16))
        .hasMessageContaining("tally.worker-id");
    assertThatThrownBy(() -> new TallySettings("w", Duration.ZERO, s, s.multipliedBy(3), 16))
        .hasMessageContaining("tally.fold-interval");
    assertThatThrownBy(() -> new TallySettings("w", s, s, s, 16))
        .hasMessageContaining("tally.member-expiry");
    assertThatThrownBy(() -> new TallySettings("w", s, s, s.multipliedBy(3), 0))
        .hasMessageContaining("tally.shards")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> new TallySettings("w", s, s, s.multipliedBy(3), 5000))
        .hasMessageContaining("tally.shards");
  }

  @Test
  void defaultWorkerIdsDifferWithinOneProcess() {
    String a = TallySettings.defaultWorkerId();
    String b = TallySettings.defaultWorkerId();
    assertThat(a).isNotEqualTo(b).contains("-" + ProcessHandle.current().pid() + "-");
  }
}
