package dev.fenced.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The §5 invariant judged on one run: 201 answers = ballots = sum of counts = sum of tally =
 * tallied, no second vote of a voter accepted, the 201 answers consistent with each other ({@link
 * AckCheck}), and enough of the voters acknowledged: a run in which the service refused (nearly)
 * every vote proves nothing about the invariant, since 0 = 0 = 0 holds trivially.
 *
 * @param voters voters who voted in the measured phase
 * @param acknowledged every 201 answer of the run, plus ambiguous votes later shown to be recorded
 * @param votersAcknowledged voters of the measured phase whose vote was acknowledged
 * @param refused voters of the measured phase whose last answer was 503 (nothing recorded)
 * @param ballots recorded ballots
 * @param counted sum of the live counters
 * @param tallySum sum of the tally
 * @param tallied ballots folded by tally-worker
 * @param unresolved votes whose outcome stayed unknown (they make the comparison meaningless)
 * @param acceptedRevotes second votes answered 201
 * @param problems what does not hold besides lost updates, one line each
 * @param lostUpdates the signs of lost updates (counts short of ballots, repeated counts, older
 *     fences accepted after newer ones): what a run without a lock is expected to show
 */
public record Verdict(
    long voters,
    long acknowledged,
    long votersAcknowledged,
    long refused,
    long ballots,
    long counted,
    long tallySum,
    long tallied,
    long unresolved,
    long acceptedRevotes,
    List<String> problems,
    List<String> lostUpdates) {

  /** The share of voters that must be acknowledged unless the caller says otherwise. */
  public static final double DEFAULT_MIN_ACKNOWLEDGED = 0.9;

  public Verdict {
    problems = List.copyOf(problems);
    lostUpdates = List.copyOf(lostUpdates);
  }

  /**
   * What the run did, as the load generator saw it.
   *
   * @param voters voters who voted in the measured phase
   * @param votersAcknowledged of them, those whose vote got a 201 (or was shown recorded later)
   * @param refused of them, those whose last answer was 503
   * @param acknowledged every 201 answer of the run (all phases), plus resolved ambiguous votes
   * @param unresolved votes whose outcome is still unknown
   * @param acceptedRevotes second votes answered 201
   * @param acks the consistency of the 201 answers' counts and fences
   */
  public record Run(
      long voters,
      long votersAcknowledged,
      long refused,
      long acknowledged,
      long unresolved,
      long acceptedRevotes,
      AckCheck acks) {}

  /** Votes recorded but missing from the live counters: what the race without a lock costs. */
  public long lost() {
    return ballots - counted;
  }

  /** The invariant holds: nothing is wrong and no update was lost. */
  public boolean pass() {
    return problems.isEmpty() && lostUpdates.isEmpty();
  }

  /** Every problem, lost updates last. */
  public List<String> allProblems() {
    List<String> all = new ArrayList<>(problems);
    all.addAll(lostUpdates);
    return all;
  }

  /**
   * Judges a run.
   *
   * @param minAcknowledged the least share of the measured phase's voters that must have been
   *     acknowledged (0..1)
   */
  public static Verdict judge(Run run, PollResults results, double minAcknowledged) {
    if (minAcknowledged < 0 || minAcknowledged > 1) {
      throw new IllegalArgumentException(
          "min-acknowledged must be between 0 and 1, was " + minAcknowledged);
    }
    List<String> problems = new ArrayList<>();
    if (run.voters() == 0) {
      problems.add("no voter voted: nothing was measured");
    } else if (run.votersAcknowledged() < Math.ceil(minAcknowledged * run.voters())) {
      problems.add(
          String.format(
              Locale.ROOT,
              "only %d of %d voters acknowledged (%.1f %%, at least %.0f %% needed); %d refused"
                  + " with 503",
              run.votersAcknowledged(),
              run.voters(),
              100.0 * run.votersAcknowledged() / run.voters(),
              minAcknowledged * 100,
              run.refused()));
    }
    if (run.unresolved() > 0) {
      problems.add(run.unresolved() + " vote(s) got no definite answer and were not resolved");
    }
    if (run.acceptedRevotes() > 0) {
      problems.add(run.acceptedRevotes() + " second vote(s) of the same voter were answered 201");
    }
    if (run.acknowledged() != results.ballots()) {
      problems.add("201 answers " + run.acknowledged() + " != ballots " + results.ballots());
    }
    List<String> lostUpdates = new ArrayList<>();
    if (results.counted() < results.ballots()) {
      lostUpdates.add(
          "sum of counts "
              + results.counted()
              + " != ballots "
              + results.ballots()
              + " (lost "
              + (results.ballots() - results.counted())
              + ")");
    } else if (results.counted() > results.ballots()) {
      problems.add(
          "sum of counts "
              + results.counted()
              + " > ballots "
              + results.ballots()
              + " (counted twice)");
    }
    if (results.tallySum() != results.tallied()) {
      problems.add("sum of tally " + results.tallySum() + " != tallied " + results.tallied());
    }
    if (results.tallied() != results.ballots()) {
      problems.add("tallied " + results.tallied() + " != ballots " + results.ballots());
    }
    lostUpdates.addAll(run.acks().problems());
    return new Verdict(
        run.voters(),
        run.acknowledged(),
        run.votersAcknowledged(),
        run.refused(),
        results.ballots(),
        results.counted(),
        results.tallySum(),
        results.tallied(),
        run.unresolved(),
        run.acceptedRevotes(),
        problems,
        lostUpdates);
  }

  /** One line with every number, e.g. for a log. */
  public String numbers() {
    return "voters="
        + voters
        + " refused="
        + refused
        + " acknowledged="
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
