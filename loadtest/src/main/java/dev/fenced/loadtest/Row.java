package dev.fenced.loadtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One measured run as a line of a comparison table: written by the {@link Checker} (one JSON object
 * a line), read by {@link dev.fenced.loadtest.report.CompareReport}.
 *
 * @param label the row's name in the table (e.g. {@code Redis})
 * @param policy the policy the services followed ({@code None} marks the run without a lock)
 * @param tags what else sets this run apart (e.g. {@code replicas=2}, {@code idlePolls=10000})
 * @param verdict {@code PASS}, {@code FAIL}, or {@code FAIL(expected)}: the run without a lock lost
 *     updates and nothing else went wrong
 * @param problems every problem found, one line each
 * @param voters voters of the measured phase
 * @param acknowledged every 201 answer (all phases), plus ambiguous votes shown to be recorded
 * @param refused voters of the measured phase whose last answer was 503
 * @param ballots recorded ballots
 * @param counted sum of the live counters
 * @param lost ballots − counted
 * @param tallied ballots folded into the tally
 * @param votesPerSecond 201 answers per second of the closed loop
 * @param p50 median response time of the closed loop's votes, ms
 * @param p99 99th percentile, ms
 * @param tallyLagMillis from the end of the closed loop until the tally had caught up; -1 not
 *     within the wait; null not measured
 * @param lockStats the replicas' lock meters over the closed loop; null when not read
 * @param capacity the capacity phase; null when not run
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Row(
    String label,
    String policy,
    Map<String, String> tags,
    String verdict,
    List<String> problems,
    long voters,
    long acknowledged,
    long refused,
    long ballots,
    long counted,
    long lost,
    long tallied,
    double votesPerSecond,
    long p50,
    long p99,
    Long tallyLagMillis,
    LockStats lockStats,
    VoteSummary.Capacity capacity) {

  public Row {
    tags = tags == null ? Map.of() : Map.copyOf(tags);
    problems = problems == null ? List.of() : List.copyOf(problems);
  }

  /** The run without a lock lost updates, as it should, and nothing else went wrong. */
  public static final String EXPECTED_FAILURE = "FAIL(expected)";

  public boolean passed() {
    return verdict.equals("PASS");
  }

  /** Appends this row as one JSON line. */
  public void append(Path file) throws IOException {
    JsonLines.append(file, this);
  }

  /** Every row of a JSON-lines file; none when the file does not exist. */
  public static List<Row> readAll(Path file) throws IOException {
    return JsonLines.read(file, Row.class);
  }
}
