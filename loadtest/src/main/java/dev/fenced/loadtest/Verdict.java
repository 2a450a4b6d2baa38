package dev.fenced.loadtest;

import java.util.ArrayList;
import java.util.List;

/**
 * The §5 invariant judged on one run: 201 answers = ballots = sum of counts = sum of tally =
 * tallied, and no second vote of a voter accepted.
 *
 * @param acknowledged 201 answers, plus ambiguous votes later shown to be recorded
 * @param ballots recorded ballots
 * @param counted sum of the live counters
 * @param tallySum sum of the tally
 * @param tallied ballots folded by tally-worker
 * @param unresolved votes whose outcome stayed unknown (they make the comparison meaningless)
 * @param acceptedRevotes second votes answered 201
 * @param problems what does not hold, one line each; empty when the invariant holds
 */
public record Verdict(
    long acknowledged,
    long ballots,
    long counted,
    long tallySum,
    long tallied,
    long unresolved,
    long acceptedRevotes,
    List<String> problems) {

  public Verdict {
    problems = List.copyOf(problems);
  }

  /** Votes recorded but missing from the live counters: what the race without a lock costs. */
  public long lost() {
    return ballots - counted;
  }

  public boolean pass() {
    return problems.isEmpty();
  }

  /**
   * Judges a run.
   *
   * @param acknowledged 201 answers (and resolved ambiguous votes that turned out recorded)
   * @param unresolved votes whose outcome is still unknown
   */
  public static Verdict judge(
      long acknowledged, long unresolved, long acceptedRevotes, PollResults results) {
    List<String> problems = new ArrayList<>();
    if (unresolved > 0) {
      problems.add(unresolved + " vote(s) got no definite answer and were not resolved");
    }
    if (acceptedRevotes > 0) {
      problems.add(acceptedRevotes + " second vote(s) of the same voter were answered 201");
    }
    if (acknowledged != results.ballots()) {
      problems.add("201 answers " + acknowledged + " != ballots " + results.ballots());
    }
    if (results.counted() != results.ballots()) {
      problems.add(
          "sum of counts "
              + results.counted()
              + " != ballots "
              + results.ballots()
              + " (lost "
              + (results.ballots() - results.counted())
              + ")");
    }
    if (results.tallySum() != results.tallied()) {
      problems.add("sum of tally " + results.tallySum() + " != tallied " + results.tallied());
    }
    if (results.tallied() != results.ballots()) {
      problems.add("tallied " + results.tallied() + " != ballots " + results.ballots());
    }
    return new Verdict(
        acknowledged,
        results.ballots(),
        results.counted(),
        results.tallySum(),
        results.tallied(),
        unresolved,
        acceptedRevotes,
        problems);
  }

  /** One line with every number, e.g. for a log. */
  public String numbers() {
    return "acknowledged="
        + acknowledged
        + " ballots="
        + ballots
        + " counted="
        + counted
        + " tally="
        + tallySum
        + " tallied="
        + tallied
        + " lost="
        + lost();
  }
}
