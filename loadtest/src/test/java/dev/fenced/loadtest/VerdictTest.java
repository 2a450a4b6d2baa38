package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {

  private static final AckCheck NO_ACKS = AckCheck.of(Map.of());

  private static PollResults results(String json) throws Exception {
    return PollResults.parse(json);
  }

  /** Every voter acknowledged, nothing else. */
  private static Verdict.Run acknowledged(long n) {
    return new Verdict.Run(n, n, 0, n, 0, 0, NO_ACKS);
  }

  private static Verdict judge(Verdict.Run run, PollResults r) {
    return Verdict.judge(run, r, Verdict.DEFAULT_MIN_ACKNOWLEDGED);
  }

  @Test
  void everyNumberEqualPasses() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":60,"dog":40},"ballots":100,
             "tally":{"cat":60,"dog":40},"tallied":100}
            """);
    Verdict v = judge(acknowledged(100), r);
    assertThat(v.pass()).isTrue();
    assertThat(v.lost()).isZero();
    assertThat(v.numbers())
        .isEqualTo(
            "voters=100 refused=0 acknowledged=100 ballots=100 counted=100 tally=100 tallied=100"
                + " lost=0");
  }

  @Test
  void aRunThatRefusedEveryVoteFails() throws Exception {
    // Every vote answered 503: nothing recorded, so 0 = 0 = 0 = 0 = 0 holds trivially.
    PollResults r =
        results("{\"poll\":\"p\",\"counts\":{\"cat\":0,\"dog\":0},\"ballots\":0,\"tallied\":0}");
    Verdict v = judge(new Verdict.Run(1500, 0, 1500, 0, 0, 0, NO_ACKS), r);

    assertThat(v.pass()).isFalse();
    assertThat(v.refused()).isEqualTo(1500);
    assertThat(v.problems())
        .containsExactly(
            "only 0 of 1500 voters acknowledged (0.0 %, at least 90 % needed); 1500 refused with"
                + " 503");
    assertThat(v.lostUpdates()).isEmpty();
  }

  @Test
  void theMinimumShareIsABound() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":50,"dog":40},"ballots":90,
             "tally":{"cat":50,"dog":40},"tallied":90}
            """);
    Verdict.Run ninetyOfHundred = new Verdict.Run(100, 90, 10, 90, 0, 0, NO_ACKS);
    assertThat(Verdict.judge(ninetyOfHundred, r, 0.9).pass()).isTrue();
    assertThat(Verdict.judge(ninetyOfHundred, r, 0.91).problems())
        .singleElement()
        .asString()
        .startsWith(
            "only 90 of 100 voters acknowledged (90.0 %, at least 91 % needed); 10 refused");
    assertThatThrownBy(() -> Verdict.judge(ninetyOfHundred, r, 1.5))
        .hasMessageContaining("min-acknowledged");
  }

  @Test
  void noVoterAtAllFails() throws Exception {
    PollResults r = results("{\"poll\":\"p\",\"ballots\":0,\"tallied\":0}");
    assertThat(Verdict.judge(new Verdict.Run(0, 0, 0, 0, 0, 0, NO_ACKS), r, 0).problems())
        .containsExactly("no voter voted: nothing was measured");
  }

  @Test
  void countsShortOfBallotsAreLostUpdates() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":55,"dog":38},"ballots":100,
             "tally":{"cat":60,"dog":40},"tallied":100}
            """);
    Verdict v = judge(acknowledged(100), r);
    assertThat(v.pass()).isFalse();
    assertThat(v.lost()).isEqualTo(7);
    assertThat(v.problems()).isEmpty();
    assertThat(v.lostUpdates()).containsExactly("sum of counts 93 != ballots 100 (lost 7)");
  }

  @Test
  void countsAboveBallotsAreDoubleCountsNotLostUpdates() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":61,"dog":40},"ballots":100,
             "tally":{"cat":60,"dog":40},"tallied":100}
            """);
    Verdict v = judge(acknowledged(100), r);
    assertThat(v.problems()).containsExactly("sum of counts 101 > ballots 100 (counted twice)");
    assertThat(v.lostUpdates()).isEmpty();
  }

  @Test
  void moreBallotsThanAcknowledgedFails() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":51,"dog":50},"ballots":101,
             "tally":{"cat":51,"dog":50},"tallied":101}
            """);
    assertThat(judge(acknowledged(100), r).problems())
        .containsExactly("201 answers 100 != ballots 101");
  }

  @Test
  void tallyBehindOrDoubleCountedFails() throws Exception {
    PollResults behind =
        results(
            """
            {"poll":"p","counts":{"cat":60,"dog":40},"ballots":100,
             "tally":{"cat":50,"dog":40},"tallied":90}
            """);
    assertThat(judge(acknowledged(100), behind).problems())
        .containsExactly("tallied 90 != ballots 100");

    PollResults doubled =
        results(
            """
            {"poll":"p","counts":{"cat":60,"dog":40},"ballots":100,
             "tally":{"cat":70,"dog":40},"tallied":100}
            """);
    assertThat(judge(acknowledged(100), doubled).problems())
        .containsExactly("sum of tally 110 != tallied 100");
  }

  @Test
  void acceptedSecondVoteAndUnresolvedVotesFail() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":1},"ballots":1,"tally":{"cat":1},"tallied":1}
            """);
    assertThat(judge(new Verdict.Run(1, 1, 0, 1, 2, 1, NO_ACKS), r).problems())
        .containsExactly(
            "2 vote(s) got no definite answer and were not resolved",
            "1 second vote(s) of the same voter were answered 201");
  }

  @Test
  void inconsistentAnswersAreLostUpdatesEvenWhenTheNumbersAdd() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":2},"ballots":2,"tally":{"cat":2},"tallied":2}
            """);
    AckCheck twice = AckCheck.of(Map.of("cat", List.of(new long[] {1, 7}, new long[] {1, 7})));
    Verdict v = judge(new Verdict.Run(2, 2, 0, 2, 0, 0, twice), r);
    assertThat(v.pass()).isFalse();
    assertThat(v.lostUpdates()).singleElement().asString().contains("cat: count 1 answered twice");
  }

  @Test
  void unknownFieldsAndMissingMapsAreTolerated() throws Exception {
    PollResults r = results("{\"poll\":\"p\",\"ballots\":0,\"tallied\":0,\"extra\":true}");
    assertThat(r.counted()).isZero();
    assertThat(Verdict.judge(new Verdict.Run(1, 0, 1, 0, 0, 0, NO_ACKS), r, 0).pass()).isTrue();
  }
}
