package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AckCheckTest {

  private static long[] ack(long count, long fence) {
    return new long[] {count, fence};
  }

  @Test
  void distinctCountsWithRisingFencesAreConsistent() {
    // Answers arrive in any order; a batch shares its hold's fence, counts stay distinct.
    AckCheck check =
        AckCheck.of(
            Map.of(
                "cat", List.of(ack(3, 9), ack(1, 5), ack(2, 9), ack(4, 12)),
                "dog", List.of(ack(1, 6), ack(2, 6))));
    assertThat(check.answers()).isEqualTo(6);
    assertThat(check.problems()).isEmpty();
  }

  @Test
  void withoutAFenceEveryAnswerCarriesTheSameTokenAndStillChecksCounts() {
    AckCheck check = AckCheck.of(Map.of("cat", List.of(ack(2, 0), ack(1, 0), ack(3, 0))));
    assertThat(check.problems()).isEmpty();
  }

  @Test
  void aRepeatedCountIsTwoVotesCountedAsOne() {
    AckCheck check = AckCheck.of(Map.of("cat", List.of(ack(1, 0), ack(2, 0), ack(2, 0))));
    assertThat(check.repeatedCounts()).isEqualTo(1);
    assertThat(check.problems())
        .singleElement()
        .asString()
        .startsWith("1 201 answer(s) repeated a count")
        .endsWith("cat: count 2 answered twice");
  }

  @Test
  void aHigherCountWithAnOlderFenceIsAStaleWriteAccepted() {
    AckCheck check = AckCheck.of(Map.of("dog", List.of(ack(1, 5), ack(2, 8), ack(3, 7))));
    assertThat(check.fenceRegressions()).isEqualTo(1);
    assertThat(check.problems())
        .containsExactly(
            "1 201 answer(s) carried an older fence than a lower count of the same option (a"
                + " stale holder's write accepted), e.g. dog: count 3 written with fence 7 after"
                + " count 2 with fence 8");
  }
}
