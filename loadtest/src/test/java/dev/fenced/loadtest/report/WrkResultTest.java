package dev.fenced.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class WrkResultTest {

  // As wrk 4.1 prints a --latency run.
  private static final String OUTPUT =
      """
      Running 10s test @ http://127.0.0.1:18100/api/polls/p/results
        2 threads and 32 connections
        Thread Stats   Avg      Stdev     Max   +/- Stdev
          Latency    10.52ms    4.10ms  90.12ms   80.00%
          Req/Sec     1.55k   120.00     1.80k    70.00%
        Latency Distribution
           50%  850.00us
           75%   12.00ms
           90%   15.00ms
           99%    1.20s
        30912 requests in 10.01s, 9.43MB read
      Requests/sec:   3088.12
      Transfer/sec:    0.94MB
      """;

  @Test
  void readsRatePercentilesInAnyUnit() {
    WrkResult r = WrkResult.parse(OUTPUT);
    assertThat(r.requests()).isEqualTo(30912);
    assertThat(r.seconds()).isCloseTo(10.01, within(1e-9));
    assertThat(r.requestsPerSecond()).isCloseTo(3088.12, within(1e-9));
    assertThat(r.p50Millis()).isCloseTo(0.85, within(1e-9));
    assertThat(r.p99Millis()).isCloseTo(1200, within(1e-9));
    assertThat(r.errors()).isZero();
    assertThat(ReadRow.of("results, empty poll", "GET /api/polls/{id}/results", 0, r).verdict())
        .isEqualTo("PASS");
  }

  @Test
  void failedAnswersAndSocketErrorsAreErrors() {
    WrkResult r =
        WrkResult.parse(
            OUTPUT.replace(
                "Requests/sec:",
                "  Socket errors: connect 0, read 2, write 0, timeout 5\n"
                    + "  Non-2xx or 3xx responses: 40\nRequests/sec:"));
    assertThat(r.errors()).isEqualTo(47);
    assertThat(
            ReadRow.of("results, 1000000 ballots", "GET /api/polls/{id}/results", 1_000_000, r)
                .verdict())
        .isEqualTo("FAIL");
  }

  @Test
  void aPollThatAnswersOtherBallotsThanItWasGivenFails() {
    WrkResult r = WrkResult.parse(OUTPUT);
    String request = "GET /api/polls/{id}/results";
    assertThat(ReadRow.of("results, 1000000 ballots", request, 0, 1_000_000, r).verdict())
        .isEqualTo("FAIL: 0 ballots answered, 1000000 given");
    assertThat(ReadRow.of("results, 1000000 ballots", request, 1_000_000, 1_000_000, r).verdict())
        .isEqualTo("PASS");
  }

  @Test
  void aRunWithoutLatencyOrThatDidNotFinishIsRefused() {
    assertThatThrownBy(() -> WrkResult.parse("unable to connect to 127.0.0.1:18100"))
        .hasMessageContaining("not the output of a finished wrk run");
    assertThatThrownBy(() -> WrkResult.parse(OUTPUT.replaceAll("(?m)^\\s+\\d\\d%.*$", "")))
        .hasMessageContaining("run wrk with --latency");
  }

  @Test
  void everyRequestTimedOutMeansNoLatencyWasMeasured() {
    WrkResult r =
        WrkResult.parse(
            """
            Running 5s test @ http://127.0.0.1:18100/api/polls/p/results
              2 threads and 32 connections
              Latency Distribution
                 50%    0.00us
                 75%    0.00us
                 90%    0.00us
                 99%    0.00us
              27 requests in 5.11s, 7.78KB read
              Socket errors: connect 0, read 0, write 0, timeout 27
            Requests/sec:      5.29
            """);
    assertThat(r.errors()).isEqualTo(27);
    assertThat(r.p50Millis()).isNaN();
    assertThat(r.p99Millis()).isNaN();
    assertThat(Cells.millis(r.p99Millis())).isEqualTo("–");
  }
}
