package dev.fenced.loadtest.report;

import dev.fenced.loadtest.Row;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The table of a measurement, and what it says: which rows failed (a row that never came fails too)
 * and what a reader must know besides the numbers (e.g. that the race was not shown).
 */
final class Tables {

  /** The label of the run without a lock, whose expected failure shows the race. */
  static final String NO_LOCK = "None";

  /** The label of the run without a vote lock, the baseline the lock rows are compared with. */
  static final String ATOMIC = "Atomic";

  /**
   * A measurement's table and verdicts.
   *
   * @param table the rows, in the order of the plan
   * @param failures one line per failed or missing row; empty when the measurement passed
   * @param notes what the numbers alone do not say
   */
  record Result(Table table, List<String> failures, List<String> notes) {}

  private Tables() {}

  static Result of(Dataset d) {
    return switch (d.kind()) {
      case POLICIES -> policies(d);
      case SCALING -> scaling(d);
      case IDLE_POLLS -> idlePolls(d);
      case READS -> reads(d);
    };
  }

  private static Result policies(Dataset d) {
    Table table =
        new Table(
            "policy",
            "votes/s",
            "× Atomic",
            "p50 ms",
            "p99 ms",
            "loop check",
            "Gatling votes/s",
            "capacity at SLO, votes/s",
            "votes per hold",
            "acknowledged",
            "refused",
            "counted",
            "lost",
            "tally lag s",
            "warm-up s",
            "invariant");
    List<String> failures = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    double atomic = d.row(ATOMIC).map(r -> ClosedLoop.of(r).votesPerSecond()).orElse(Double.NaN);
    voteRows(
        d,
        table,
        failures,
        r -> {
          ClosedLoop loop = ClosedLoop.of(r);
          return List.of(
              r.label(),
              Cells.rate(loop.votesPerSecond()),
              Cells.times(loop.votesPerSecond() / atomic),
              Cells.millis(loop.p50()),
              Cells.millis(loop.p99()),
              loop.check(),
              Cells.rate(r.votesPerSecond()),
              Cells.capacity(r.capacity()),
              Cells.perHold(r.lockStats()),
              Cells.count(r.acknowledged()),
              Cells.count(r.refused()),
              Cells.count(r.counted()),
              Cells.count(r.lost()),
              Cells.lag(r.tallyLagMillis()),
              tag(r, "serviceWarmup"),
              r.verdict());
        },
        r -> {
          if (r.policy().equalsIgnoreCase(NO_LOCK)) {
            judgeNoLock(r, failures, notes);
          } else {
            passOrFail(r, failures);
          }
        });
    if (!d.plan().contains(NO_LOCK)) {
      notes.add(
          "None was not run: this run does not show the race, only that the rows it ran kept the"
              + " invariant.");
    }
    return new Result(table, failures, notes);
  }

  private static void judgeNoLock(Row r, List<String> failures, List<String> notes) {
    switch (r.verdict()) {
      case Row.EXPECTED_FAILURE ->
          notes.add(
              String.format(
                  Locale.ROOT,
                  "%s lost %d of %d recorded votes from its counters: the race, shown.",
                  r.label(),
                  r.lost(),
                  r.ballots()));
      case "PASS" ->
          failures.add(
              r.label()
                  + " lost no vote this time, so the race was not shown; raise --concurrency");
      default -> failures.add(r.label() + ": " + String.join("; ", r.problems()));
    }
  }

  /**
   * Redis at each replica count, and where the run had them, Redis with poll affinity at the
   * ingress and Atomic (no lock) at the same count: the control that shows what the machine gives
   * up with each replica whatever the lock. "× best" compares a row with the best of its own series
   * (policy and affinity); "× Atomic" a lock's row with the control at its replica count.
   */
  private static Result scaling(Dataset d) {
    Table table =
        new Table(
            "vote-api replicas",
            "votes/s",
            "× best",
            "× Atomic",
            "p50 ms",
            "p99 ms",
            "loop check",
            "Gatling votes/s",
            "votes per hold",
            "acknowledged",
            "refused",
            "warm-up s",
            "invariant");
    // Each row's rate once: the best per series, and Atomic's per replica count.
    Map<String, Double> bestOfSeries = new HashMap<>();
    Map<String, Double> atomicAt = new HashMap<>();
    for (Row r : d.rows()) {
      double rate = ClosedLoop.of(r).votesPerSecond();
      bestOfSeries.merge(series(r), rate, Math::max);
      if (r.policy().equalsIgnoreCase(ATOMIC)) {
        atomicAt.putIfAbsent(tag(r, "replicas"), rate);
      }
    }
    List<String> failures = new ArrayList<>();
    voteRows(
        d,
        table,
        failures,
        r -> {
          ClosedLoop loop = ClosedLoop.of(r);
          double best = bestOfSeries.getOrDefault(series(r), Double.NaN);
          double control =
              r.policy().equalsIgnoreCase(ATOMIC)
                  ? Double.NaN
                  : atomicAt.getOrDefault(tag(r, "replicas"), Double.NaN);
          return List.of(
              r.label(),
              Cells.rate(loop.votesPerSecond()),
              Cells.times(loop.votesPerSecond() / best),
              Cells.times(loop.votesPerSecond() / control),
              Cells.millis(loop.p50()),
              Cells.millis(loop.p99()),
              loop.check(),
              Cells.rate(r.votesPerSecond()),
              Cells.perHold(r.lockStats()),
              Cells.count(r.acknowledged()),
              Cells.count(r.refused()),
              tag(r, "serviceWarmup"),
              r.verdict());
        },
        r -> passOrFail(r, failures));
    return new Result(table, failures, List.of());
  }

  /** A scaling row's series: its policy, and the ingress's affinity when it had one. */
  private static String series(Row r) {
    return r.policy().toLowerCase(Locale.ROOT) + " " + r.tags().getOrDefault("affinity", "none");
  }

  private static Result idlePolls(Dataset d) {
    Table table =
        new Table(
            "idle polls",
            "votes/s",
            "× no idle poll",
            "p50 ms",
            "p99 ms",
            "loop check",
            "tally lag s",
            "tally-workers CPU % idle",
            "under load",
            "Redis CPU % idle",
            "under load",
            "acknowledged",
            "warm-up s",
            "invariant");
    double empty =
        d.plan().isEmpty()
            ? Double.NaN
            : d.row(d.plan().get(0)).map(r -> ClosedLoop.of(r).votesPerSecond()).orElse(Double.NaN);
    List<String> failures = new ArrayList<>();
    voteRows(
        d,
        table,
        failures,
        r -> {
          ClosedLoop loop = ClosedLoop.of(r);
          return List.of(
              r.label(),
              Cells.rate(loop.votesPerSecond()),
              Cells.times(loop.votesPerSecond() / empty),
              Cells.millis(loop.p50()),
              Cells.millis(loop.p99()),
              loop.check(),
              Cells.lag(r.tallyLagMillis()),
              tag(r, "tallyCpuIdle"),
              tag(r, "tallyCpuLoad"),
              tag(r, "redisCpuIdle"),
              tag(r, "redisCpuLoad"),
              Cells.count(r.acknowledged()),
              tag(r, "serviceWarmup"),
              r.verdict());
        },
        r -> passOrFail(r, failures));
    return new Result(table, failures, List.of());
  }

  /** A value the script measured beside the checker and kept with the row; a dash when absent. */
  private static String tag(Row r, String key) {
    return r.tags().getOrDefault(key, Cells.NONE);
  }

  /**
   * A line per planned label, in the plan's order: the row's cells, or dashes and a failure when
   * the row never came; {@code judge} then says what a row that came means.
   */
  private static void voteRows(
      Dataset d,
      Table table,
      List<String> failures,
      Function<Row, List<String>> cells,
      Consumer<Row> judge) {
    for (String label : d.plan()) {
      Optional<Row> found = d.row(label);
      if (found.isEmpty()) {
        table.row(missing(label, table.columns()));
        failures.add(label + ": no result (the run or its check crashed; see the run's folder)");
      } else {
        table.row(cells.apply(found.get()));
        judge.accept(found.get());
      }
    }
  }

  private static Result reads(Dataset d) {
    Table table =
        new Table(
            "request",
            "ballots",
            "requests/s",
            "× nginx alone",
            "p50 ms",
            "p99 ms",
            "errors",
            "result");
    double nginx = d.read(ReadRow.NGINX).map(r -> r.wrk().requestsPerSecond()).orElse(Double.NaN);
    List<String> failures = new ArrayList<>();
    for (String label : d.plan()) {
      Optional<ReadRow> found = d.read(label);
      if (found.isEmpty()) {
        table.row(missing(label, table.columns()));
        failures.add(label + ": no result (wrk did not finish; see the run's folder)");
        continue;
      }
      ReadRow r = found.get();
      table.row(
          List.of(
              r.request() == null ? label : label + ": " + r.request(),
              r.ballots() < 0 ? Cells.NONE : Cells.count(r.ballots()),
              Cells.rate(r.wrk().requestsPerSecond()),
              Cells.times(r.wrk().requestsPerSecond() / nginx),
              Cells.millis(r.wrk().p50Millis()),
              Cells.millis(r.wrk().p99Millis()),
              Cells.count(r.wrk().errors()),
              r.verdict()));
      if (!r.verdict().equals("PASS")) {
        failures.add(label + ": " + r.wrk().errors() + " request(s) failed");
      }
    }
    return new Result(table, failures, List.of());
  }

  private static void passOrFail(Row r, List<String> failures) {
    if (!r.passed()) {
      failures.add(r.label() + ": " + String.join("; ", r.problems()));
    }
    ClosedLoop loop = ClosedLoop.of(r);
    if (loop.failed()) {
      failures.add(r.label() + ": the wrk closed loop's poll: " + loop.check());
    }
  }

  private static List<String> missing(String label, int columns) {
    return Stream.concat(
            Stream.of(label),
            Stream.concat(
                Stream.generate(() -> Cells.NONE).limit(columns - 2), Stream.of("FAIL(no result)")))
        .toList();
  }
}
