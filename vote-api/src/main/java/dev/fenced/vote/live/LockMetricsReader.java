package dev.fenced.vote.live;

import dev.fenced.lock.policy.PolicyRef;
import dev.fenced.vote.live.LocksView.Latency;
import dev.fenced.vote.live.LocksView.Metrics;
import dev.fenced.vote.live.LocksView.PerHold;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Reads this replica's lock series back from the {@link MeterRegistry} by name, the same series
 * {@code /q/metrics} exports: {@code fenced.lock.wait}, {@code fenced.lock.hold}, {@code
 * fenced.lock.batch.votes}, {@code fenced.fence.rejections} (per {@code backend}, and per {@code
 * policy} where a series carries that tag) and {@code fenced.votes} (per {@code outcome}). Nothing
 * is recorded here.
 */
@ApplicationScoped
public class LockMetricsReader {

  static final String WAIT = "fenced.lock.wait";
  static final String HOLD = "fenced.lock.hold";
  static final String VOTES_PER_HOLD = "fenced.lock.batch.votes";
  static final String FENCE_REJECTIONS = "fenced.fence.rejections";
  static final String VOTES = "fenced.votes";

  private final MeterRegistry registry;

  LockMetricsReader(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The series of {@code backend} that belong to {@code policy}, or to no policy in particular. */
  Metrics forBackend(String backend, PolicyRef policy) {
    Predicate<Meter> mine = m -> ofPolicy(m, policy);
    List<Timer> waits = timers(WAIT, backend, mine);
    List<Timer> acquired = waits.stream().filter(outcome("acquired")).toList();
    List<Timer> failed = waits.stream().filter(outcome("failed")).toList();
    List<DistributionSummary> perHold =
        registry.find(VOTES_PER_HOLD).tag("backend", backend).summaries().stream()
            .filter(mine)
            .toList();
    List<Counter> rejections =
        registry.find(FENCE_REJECTIONS).tag("backend", backend).counters().stream()
            .filter(mine)
            .toList();
    return new Metrics(
        latency(acquired),
        failed.isEmpty() ? null : failed.stream().mapToLong(Timer::count).sum(),
        latency(timers(HOLD, backend, mine)),
        perHold(perHold),
        rejections.isEmpty()
            ? null
            : Math.round(rejections.stream().mapToDouble(Counter::count).sum()));
  }

  /** This replica's vote requests by outcome, all polls together. */
  Map<String, Long> votes() {
    Map<String, Long> out = new TreeMap<>();
    for (Counter c : registry.find(VOTES).counters()) {
      String outcome = c.getId().getTag("outcome");
      out.merge(outcome == null ? "other" : outcome, Math.round(c.count()), Long::sum);
    }
    return out;
  }

  private List<Timer> timers(String name, String backend, Predicate<Meter> mine) {
    return registry.find(name).tag("backend", backend).timers().stream().filter(mine).toList();
  }

  private static Predicate<Timer> outcome(String value) {
    return t -> value.equals(t.getId().getTag("outcome"));
  }

  /** A series without a policy tag counts for every policy of its backend. */
  private static boolean ofPolicy(Meter meter, PolicyRef policy) {
    String tagged = meter.getId().getTag("policy");
    return tagged == null || tagged.equals(policy.name()) || tagged.equals(policy.toString());
  }

  private static Latency latency(Collection<Timer> timers) {
    if (timers.isEmpty()) {
      return null;
    }
    List<HistogramSnapshot> snapshots = timers.stream().map(Timer::takeSnapshot).toList();
    HistogramQuantile h = HistogramQuantile.of(snapshots, TimeUnit.MILLISECONDS);
    long count = snapshots.stream().mapToLong(HistogramSnapshot::count).sum();
    return new Latency(count, h.quantile(0.5), h.quantile(0.99));
  }

  private static PerHold perHold(Collection<DistributionSummary> summaries) {
    if (summaries.isEmpty()) {
      return null;
    }
    List<HistogramSnapshot> snapshots =
        summaries.stream().map(DistributionSummary::takeSnapshot).toList();
    long holds = snapshots.stream().mapToLong(HistogramSnapshot::count).sum();
    if (holds == 0) {
      return null;
    }
    double total = snapshots.stream().mapToDouble(HistogramSnapshot::total).sum();
    HistogramQuantile h = HistogramQuantile.of(snapshots, null);
    return new PerHold(holds, total / holds, h.quantile(0.5), h.quantile(0.99));
  }
}
