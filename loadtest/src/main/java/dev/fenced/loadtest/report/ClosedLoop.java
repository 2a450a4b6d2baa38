package dev.fenced.loadtest.report;

import dev.fenced.loadtest.Row;

/**
 * The closed loop a row's rate columns show. {@code scripts/compare.sh} measures it with wrk, whose
 * figures it keeps with the row as tags ({@code loopVotes}, {@code loopP50}, {@code loopP99},
 * {@code loopCheck}): a C client that leaves the machine's cores to the system under test. A row
 * without them (the loop skipped, or a row of an older run) shows Gatling's closed loop instead,
 * whose JVM takes a large share of a small machine.
 *
 * @param votesPerSecond 201 answers per second
 * @param p50 median latency, ms
 * @param p99 99th percentile, ms
 * @param check the loop poll's own check ({@code PASS}, {@code FAIL: …}, {@code lost N} without a
 *     lock, {@code unresolved: …}); {@code –} for Gatling's loop, which the row's verdict checks
 */
record ClosedLoop(double votesPerSecond, double p50, double p99, String check) {

  static ClosedLoop of(Row r) {
    String votes = r.tags().get("loopVotes");
    if (votes == null) {
      return new ClosedLoop(r.votesPerSecond(), r.p50(), r.p99(), Cells.NONE);
    }
    return new ClosedLoop(
        number(votes),
        number(r.tags().get("loopP50")),
        number(r.tags().get("loopP99")),
        r.tags().getOrDefault("loopCheck", Cells.NONE));
  }

  /** Whether the loop's own check found a lock row's votes wrong (not merely unresolved). */
  boolean failed() {
    return check.startsWith("FAIL");
  }

  private static double number(String s) {
    try {
      return s == null ? Double.NaN : Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
