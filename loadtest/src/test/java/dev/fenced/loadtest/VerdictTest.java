package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VerdictTest {

  private static PollResults results(String json) throws Exception {
    return PollResults.parse(json);
  }

  @Test
  void everyNumberEqualPasses() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":60,"dog":40},"ballots":100,
             "tally":{"cat":60,"dog":40},"tallied":100}
            """);
    Verdict v = Verdict.judge(100, 0, 0, r);
    assertThat(v.pass()).isTrue();
    assertThat(v.lost()).isZero();
    assertThat(v.numbers())
        .isEqualTo("acknowledged=100 ballots=100 counted=100 tally=100 tallied=100 lost=0");
  }

  @Test
  void countsShortOfBallotsAreLostVotes() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":55,"dog":38},"ballots":100,
             "tally":{"cat":60,"dog":40},"tallied":100}
            """);
    Verdict v = Verdict.judge(100, 0, 0, r);
    assertThat(v.pass()).isFalse();
    assertThat(v.lost()).isEqualTo(7);
    assertThat(v.problems()).containsExactly("sum of counts 93 != ballots 100 (lost 7)");
  }

  @Test
  void moreBallotsThanAcknowledgedFails() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":51,"dog":50},"ballots":101,
             "tally":{"cat":51,"dog":50},"tallied":101}
            """);
    assertThat(Verdict.judge(100, 0, 0, r).problems())
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
    assertThat(Verdict.judge(100, 0, 0, behind).problems())
        .containsExactly("tallied 90 != ballots 100");

    PollResults doubled =
        results(
            """
            {"poll":"p","counts":{"cat":60,"dog":40},"ballots":100,
             "tally":{"cat":70,"dog":40},"tallied":100}
            """);
    assertThat(Verdict.judge(100, 0, 0, doubled).problems())
        .containsExactly("sum of tally 110 != tallied 100");
  }

  @Test
  void acceptedSecondVoteAndUnresolvedVotesFail() throws Exception {
    PollResults r =
        results(
            """
            {"poll":"p","counts":{"cat":1},"ballots":1,"tally":{"cat":1},"tallied":1}
            """);
    assertThat(Verdict.judge(1, 2, 1, r).problems())
        .containsExactly(
            "2 vote(s) got no definite answer and were not resolved",
            "1 second vote(s) of the same voter were answered 201");
  }

  @Test
  void unknownFieldsAndMissingMapsAreTolerated() throws Exception {
    PollResults r = results("{\"poll\":\"p\",\"ballots\":0,\"tallied\":0,\"extra\":true}");
    assertThat(r.counted()).isZero();
    assertThat(Verdict.judge(0, 0, 0, r).pass()).isTrue();
  }
}
