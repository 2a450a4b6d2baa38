package dev.fenced.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.loadtest.Latencies.Percentiles;
import dev.fenced.loadtest.LockStats;
import dev.fenced.loadtest.Row;
import dev.fenced.loadtest.Slo;
import dev.fenced.loadtest.VoteSummary.Answers;
import dev.fenced.loadtest.VoteSummary.Capacity;
import dev.fenced.loadtest.VoteSummary.Level;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TablesTest {

  private static final Capacity CAPACITY =
      new Capacity(
          Slo.DEFAULT,
          4,
          List.of(level(100, null), level(200, null), level(400, "p99 180 ms > 100 ms")),
          List.of());

  private static Level level(double rate, String miss) {
    long n = (long) rate * 4;
    return new Level(rate, n, new Answers(n, 0, 0, 0), new Percentiles(n, 5, 50, 60), miss);
  }

  static Row row(String label, String policy, String verdict, double rate, long lost) {
    return row(label, policy, verdict, rate, lost, Map.of());
  }

  static Row row(
      String label,
      String policy,
      String verdict,
      double rate,
      long lost,
      Map<String, String> tags) {
    return new Row(
        label,
        policy,
        tags,
        verdict,
        verdict.equals("PASS") ? List.of() : List.of("sum of counts short (lost " + lost + ")"),
        1500,
        1500,
        0,
        1500,
        1500 - lost,
        lost,
        1500,
        rate,
        12,
        85,
        400L,
        new LockStats(100, 1500, 100, 0.5, 100, 1.0, 3),
        policy.equals("None") ? null : CAPACITY);
  }

  private static Dataset policies(List<String> plan, Row... rows) {
    return new Dataset(
        Kind.POLICIES, Map.of("closed loop", "test"), plan, List.of(rows), List.of());
  }

  @Test
  void theRaceShownAndEveryLockPassingIsAPass() {
    Tables.Result r =
        Tables.of(
            policies(
                List.of("None", "Atomic", "Redis"),
                row("None", "None", Row.EXPECTED_FAILURE, 900, 700),
                row("Atomic", "Atomic", "PASS", 1000, 0),
                row("Redis", "Redis", "PASS", 500, 0)));
    assertThat(r.failures()).isEmpty();
    assertThat(r.notes())
        .containsExactly(
            "None lost 700 of 1500 recorded votes from its counters: the race, shown.");
    assertThat(r.table().text())
        .contains(
            "policy  votes/s  × Atomic  p50 ms  p99 ms  loop check  Gatling votes/s  capacity at"
                + " SLO, votes/s  votes per hold")
        .containsPattern(
            "Redis +500 +0\\.50× +12 +85 +– +500 +200 +15\\.0 +1500 +0 +1500 +0 +0\\.4 +– +PASS")
        .containsPattern("None +900 +0\\.90× .* – +.* FAIL\\(expected\\)");
  }

  @Test
  void eachRowShowsHowLongItsServicesWereWarmedAndWhetherTheyStillSpedUp() {
    Tables.Result r =
        Tables.of(
            policies(
                List.of("Atomic", "Redis"),
                row("Atomic", "Atomic", "PASS", 1000, 0, Map.of("serviceWarmup", "40")),
                row("Redis", "Redis", "PASS", 500, 0, Map.of("serviceWarmup", "60+"))));
    assertThat(r.table().text())
        .contains("tally lag s  warm-up s  invariant")
        .containsPattern("Atomic +1000 .* +0\\.4 +40 +PASS")
        .containsPattern("Redis +500 .* +0\\.4 +60\\+ +PASS");
  }

  private static Map<String, String> loop(double rate, String check) {
    return Map.of(
        "loopVotes", String.valueOf(rate), "loopP50", "4.5", "loopP99", "61.0", "loopCheck", check);
  }

  @Test
  void theWrkClosedLoopIsWhatTheRatesShowAndItsOwnCheckCounts() {
    Tables.Result r =
        Tables.of(
            policies(
                List.of("None", "Atomic", "Redis", "Etcd"),
                row("None", "None", Row.EXPECTED_FAILURE, 900, 700, loop(1800, "lost 900")),
                row("Atomic", "Atomic", "PASS", 1000, 0, loop(2000, "PASS")),
                row("Redis", "Redis", "PASS", 500, 0, loop(2400, "PASS")),
                row(
                    "Etcd",
                    "Etcd",
                    "PASS",
                    300,
                    0,
                    loop(700, "FAIL: counts 9990 for 10000 ballots"))));
    // Rates, the ratio and latencies are wrk's; Gatling's own rate stands beside them.
    assertThat(r.table().text())
        .containsPattern("Redis +2400 +1\\.20× +4\\.50 +61 +PASS +500 +200 ")
        .containsPattern("None +1800 +0\\.90× +4\\.50 +61 +lost 900 +900 ");
    // A lock row whose loop poll lost or invented votes fails, though Gatling's check passed;
    // None's loss is the race it shows.
    assertThat(r.failures())
        .containsExactly("Etcd: the wrk closed loop's poll: FAIL: counts 9990 for 10000 ballots");
  }

  @Test
  void aMissingRowFailsEvenWhenEveryRowThatCamePassed() {
    Tables.Result r =
        Tables.of(
            policies(
                List.of("None", "Redis", "Etcd"),
                row("None", "None", Row.EXPECTED_FAILURE, 900, 700),
                row("Redis", "Redis", "PASS", 500, 0)));
    assertThat(r.failures()).singleElement().asString().startsWith("Etcd: no result");
    assertThat(r.table().text()).containsPattern("Etcd( +–)+ +FAIL\\(no result\\)");
  }

  @Test
  void aRunWithoutALockThatLostNothingDidNotShowTheRace() {
    Tables.Result r = Tables.of(policies(List.of("None"), row("None", "None", "PASS", 900, 0)));
    assertThat(r.failures())
        .containsExactly(
            "None lost no vote this time, so the race was not shown; raise --concurrency");
  }

  @Test
  void aRunWithoutNoneSaysItDidNotShowTheRace() {
    Tables.Result r = Tables.of(policies(List.of("Redis"), row("Redis", "Redis", "PASS", 500, 0)));
    assertThat(r.failures()).isEmpty();
    assertThat(r.notes()).singleElement().asString().startsWith("None was not run");
  }

  @Test
  void aLockThatLostVotesFails() {
    Tables.Result r = Tables.of(policies(List.of("Redis"), row("Redis", "Redis", "FAIL", 500, 3)));
    assertThat(r.failures()).containsExactly("Redis: sum of counts short (lost 3)");
  }

  @Test
  void aLevelThatMissedAloneBelowAMetOneIsShownButDoesNotSetTheCapacity() {
    String stall = "p99 333 ms > 100 ms";
    Capacity capacity =
        new Capacity(
            Slo.DEFAULT,
            4,
            List.of(
                level(25, stall),
                level(50, null),
                level(100, stall),
                level(200, null),
                level(300, stall),
                level(450, stall)),
            List.of());
    assertThat(capacity.atSlo()).hasValue(200);
    assertThat(capacity.missedBelow()).containsExactly(25.0, 100.0);
    assertThat(capacity.ceilingReached()).isFalse();
    assertThat(Cells.capacity(capacity)).isEqualTo("200 (missed 25, 100)");
    Capacity lastMet =
        new Capacity(
            Slo.DEFAULT,
            4,
            List.of(level(25, stall), level(50, null), level(100, null)),
            List.of());
    assertThat(Cells.capacity(lastMet)).isEqualTo("≥100 (missed 25)");
  }

  @Test
  void capacityIsTheHighestLevelMetBelowTheFirstMiss() {
    assertThat(Cells.capacity(CAPACITY)).isEqualTo("200");
    assertThat(Cells.capacity(new Capacity(Slo.DEFAULT, 4, List.of(level(100, null)), List.of())))
        .isEqualTo("≥100");
    assertThat(
            Cells.capacity(
                new Capacity(Slo.DEFAULT, 4, List.of(level(25, "p99 900 ms > 100 ms")), List.of())))
        .isEqualTo("<25");
    assertThat(Cells.capacity(null)).isEqualTo("–");
  }

  @Test
  void scalingComparesWithTheBestReplicaCountOfItsPolicyAndWithAtomicAtTheSameCount() {
    Dataset d =
        new Dataset(
            Kind.SCALING,
            Map.of(),
            List.of("1 vote-api", "1 vote-api, Atomic", "2 vote-api", "2 vote-api, Atomic"),
            List.of(
                row("1 vote-api", "Redis", "PASS", 400, 0, Map.of("replicas", "1")),
                row("1 vote-api, Atomic", "Atomic", "PASS", 200, 0, Map.of("replicas", "1")),
                row(
                    "2 vote-api",
                    "Redis",
                    "PASS",
                    800,
                    0,
                    Map.of("serviceWarmup", "40", "replicas", "2")),
                row("2 vote-api, Atomic", "Atomic", "PASS", 100, 0, Map.of("replicas", "2"))),
            List.of());
    Tables.Result r = Tables.of(d);
    assertThat(r.failures()).isEmpty();
    assertThat(r.table().markdown())
        .contains("| 1 vote-api | 400 | 0.50× | 2.00× | 12 | 85 | – | 400 |")
        .contains("| 1 vote-api, Atomic | 200 | 1.00× | – | 12 | 85 | – | 200 |")
        .contains("| 2 vote-api | 800 | 1.00× | 8.00× | 12 | 85 | – | 800 |")
        .contains("| 2 vote-api, Atomic | 100 | 0.50× | – | 12 | 85 | – | 100 |")
        .contains("| 1500 | 0 | – | PASS |")
        .contains("| 1500 | 0 | 40 | PASS |")
        .startsWith("| vote-api replicas | votes/s | × best | × Atomic |");
  }

  @Test
  void scalingComparesAnAffinityRowWithItsOwnSeriesAndWithAtomicAtTheSameCount() {
    Dataset d =
        new Dataset(
            Kind.SCALING,
            Map.of(),
            List.of(
                "1 vote-api",
                "1 vote-api, poll affinity",
                "1 vote-api, Atomic",
                "2 vote-api",
                "2 vote-api, poll affinity",
                "2 vote-api, Atomic"),
            List.of(
                row("1 vote-api", "Redis", "PASS", 800, 0, Map.of("replicas", "1")),
                row(
                    "1 vote-api, poll affinity",
                    "Redis",
                    "PASS",
                    1000,
                    0,
                    Map.of("replicas", "1", "affinity", "poll")),
                row("1 vote-api, Atomic", "Atomic", "PASS", 200, 0, Map.of("replicas", "1")),
                row("2 vote-api", "Redis", "PASS", 400, 0, Map.of("replicas", "2")),
                row(
                    "2 vote-api, poll affinity",
                    "Redis",
                    "PASS",
                    900,
                    0,
                    Map.of("replicas", "2", "affinity", "poll")),
                row("2 vote-api, Atomic", "Atomic", "PASS", 100, 0, Map.of("replicas", "2"))),
            List.of());
    // Round robin's best is its own 800, not the affinity row's 1000.
    assertThat(Tables.of(d).table().markdown())
        .contains("| 1 vote-api | 800 | 1.00× | 4.00× | 12 |")
        .contains("| 1 vote-api, poll affinity | 1000 | 1.00× | 5.00× | 12 |")
        .contains("| 2 vote-api | 400 | 0.50× | 4.00× | 12 |")
        .contains("| 2 vote-api, poll affinity | 900 | 0.90× | 9.00× | 12 |")
        .contains("| 2 vote-api, Atomic | 100 | 0.50× | – | 12 |");
  }

  @Test
  void scalingWithoutTheControlShowsNoAtomicRatio() {
    Dataset d =
        new Dataset(
            Kind.SCALING,
            Map.of(),
            List.of("1 vote-api", "2 vote-api"),
            List.of(
                row("1 vote-api", "Redis", "PASS", 400, 0, Map.of("replicas", "1")),
                row("2 vote-api", "Redis", "PASS", 800, 0, Map.of("replicas", "2"))),
            List.of());
    assertThat(Tables.of(d).table().markdown())
        .contains("| 1 vote-api | 400 | 0.50× | – | 12 |")
        .contains("| 2 vote-api | 800 | 1.00× | – | 12 |");
  }

  private static ReadRow read(String label, long ballots, double rate, long errors) {
    return ReadRow.of(
        label,
        ballots < 0 ? "GET /nginx-health" : "GET /api/polls/{id}/results",
        ballots,
        new WrkResult((long) rate * 10, 10, rate, 1.5, 20, errors));
  }

  @Test
  void readsCompareWithNginxAloneAndAMissingOrFailedReadFails() {
    Dataset d =
        new Dataset(
            Kind.READS,
            Map.of(),
            List.of(ReadRow.NGINX, "results, empty poll", "results, 1000000 ballots", "poll"),
            List.of(),
            List.of(
                read(ReadRow.NGINX, -1, 20000, 0),
                read("results, empty poll", 0, 5000, 0),
                read("results, 1000000 ballots", 1_000_000, 50, 3)));
    Tables.Result r = Tables.of(d);
    assertThat(r.table().markdown())
        .startsWith("| request | ballots | requests/s | × nginx alone |")
        .contains("| nginx alone: GET /nginx-health | – | 20000 | 1.00× |")
        .contains("| results, empty poll: GET /api/polls/{id}/results | 0 | 5000 | 0.25× |")
        .contains("| 1000000 | 50 | 0.003× | 1.50 | 20 | 3 | FAIL |");
    assertThat(r.failures())
        .containsExactly(
            "results, 1000000 ballots: 3 request(s) failed",
            "poll: no result (wrk did not finish; see the run's folder)");
  }

  @Test
  void idlePollsShowTheCpuTheScriptKeptWithEachRow() {
    Row empty = row("0", "Redis", "PASS", 500, 0);
    Row many = row("100000", "Redis", "PASS", 450, 0);
    many =
        new Row(
            many.label(),
            many.policy(),
            Map.of(
                "tallyCpuIdle",
                "3",
                "tallyCpuLoad",
                "40",
                "redisCpuIdle",
                "1",
                "redisCpuLoad",
                "25",
                "serviceWarmup",
                "90"),
            many.verdict(),
            many.problems(),
            many.voters(),
            many.acknowledged(),
            many.refused(),
            many.ballots(),
            many.counted(),
            many.lost(),
            many.tallied(),
            many.votesPerSecond(),
            many.p50(),
            many.p99(),
            many.tallyLagMillis(),
            many.lockStats(),
            many.capacity());
    Tables.Result r =
        Tables.of(
            new Dataset(
                Kind.IDLE_POLLS,
                Map.of(),
                List.of("0", "100000"),
                List.of(empty, many),
                List.of()));
    assertThat(r.failures()).isEmpty();
    assertThat(r.table().markdown())
        .contains("| 0 | 500 | 1.00× | 12 | 85 | – | 0.4 | – | – | – | – | 1500 | – | PASS |")
        .contains(
            "| 100000 | 450 | 0.90× | 12 | 85 | – | 0.4 | 3 | 40 | 1 | 25 | 1500 | 90 | PASS |");
  }
}
