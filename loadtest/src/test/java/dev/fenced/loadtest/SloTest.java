package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.loadtest.Latencies.Percentiles;
import dev.fenced.loadtest.VoteSummary.Answers;
import org.junit.jupiter.api.Test;

class SloTest {

  private static final Percentiles FAST = new Percentiles(400, 8, 60, 90);

  @Test
  void everyVoteAnsweredQuicklyMeetsIt() {
    assertThat(Slo.DEFAULT.miss(400, new Answers(400, 0, 0, 0), FAST)).isEmpty();
    // 4 of 400 refused: 1 %, still within the default share.
    assertThat(Slo.DEFAULT.miss(400, new Answers(396, 0, 4, 0), FAST)).isEmpty();
  }

  @Test
  void aSlow99thPercentileMissesIt() {
    assertThat(Slo.DEFAULT.miss(400, new Answers(400, 0, 0, 0), new Percentiles(400, 20, 101, 900)))
        .contains("p99 101 ms > 100 ms");
  }

  @Test
  void refusingWorkQuicklyDoesNotPassForServingIt() {
    assertThat(Slo.DEFAULT.miss(400, new Answers(0, 0, 400, 0), FAST))
        .contains("400 of 400 refused with 503 (more than 1.0 %)");
  }

  @Test
  void errorsUnansweredVotesAndConflictsMissIt() {
    assertThat(Slo.DEFAULT.miss(400, new Answers(399, 0, 0, 1), FAST))
        .contains("1 answer(s) neither 201 nor 503 (errors or no answer)");
    assertThat(Slo.DEFAULT.miss(400, new Answers(398, 0, 0, 0), FAST))
        .contains("2 vote(s) without an answer");
    assertThat(Slo.DEFAULT.miss(400, new Answers(399, 1, 0, 0), FAST))
        .contains("1 fresh voter(s) answered 409");
    assertThat(Slo.DEFAULT.miss(0, Answers.NONE, Percentiles.NONE)).contains("no vote was sent");
  }

  @Test
  void badSettingsNameTheirField() {
    assertThatThrownBy(() -> new Slo(0, 0.01)).hasMessageContaining("sloP99Millis");
    assertThatThrownBy(() -> new Slo(100, 2)).hasMessageContaining("sloMaxRefusedShare");
  }
}
