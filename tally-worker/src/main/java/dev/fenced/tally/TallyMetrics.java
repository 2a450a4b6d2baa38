package dev.fenced.tally;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The worker's meters. In Prometheus: {@code tally_owned_polls}, {@code tally_live_workers}, {@code
 * tally_fold_lag_ballots{poll}}, {@code tally_folds_total}, {@code tally_folded_ballots_total},
 * {@code tally_fence_rejections_total}, {@code tally_ownership_changes_total{change}}.
 */
public final class TallyMetrics {

  /** Why ownership of a poll changed. */
  public enum Change {
    ACQUIRED,
    /** Given up: more workers share the polls, the poll is gone, or the worker stops. */
    RELEASED,
    /** The lock reported its loss ({@code handle.lost()}). */
    LOST,
    /** A fold was refused by the fence: a newer owner exists. */
    REJECTED
  }

  private final MeterRegistry registry;
  private final Counter folds;
  private final Counter foldedBallots;
  private final Counter rejections;
  private final Map<Change, Counter> changes = new ConcurrentHashMap<>();
  private final Map<String, Gauge> lagGauges = new ConcurrentHashMap<>();
  private final AtomicLong liveWorkers = new AtomicLong();

  public TallyMetrics(MeterRegistry registry, Supplier<Number> ownedPolls) {
    this.registry = registry;
    this.folds =
        Counter.builder("tally.folds")
            .description("Fold transactions that committed ballots into the tallies")
            .register(registry);
    this.foldedBallots =
        Counter.builder("tally.folded.ballots")
            .description("Ballots added to the tallies")
            .register(registry);
    this.rejections =
        Counter.builder("tally.fence.rejections")
            .description("Folds rolled back because the watermark's fence or horizon had moved on")
            .register(registry);
    for (Change change : Change.values()) {
      changes.put(
          change,
          Counter.builder("tally.ownership.changes")
              .description("Polls this worker started or stopped owning, by cause")
              .tag("change", change.name().toLowerCase())
              .register(registry));
    }
    Gauge.builder("tally.owned.polls", ownedPolls)
        .description("Polls whose tally this worker owns now")
        .register(registry);
    Gauge.builder("tally.live.workers", liveWorkers, AtomicLong::get)
        .description("Tally workers with a fresh membership heartbeat, this one included")
        .register(registry);
  }

  void folded(long ballots) {
    folds.increment();
    foldedBallots.increment(ballots);
  }

  void rejected() {
    rejections.increment();
  }

  void changed(Change change) {
    changes.get(change).increment();
  }

  void liveWorkers(long n) {
    liveWorkers.set(n);
  }

  /** Shows the lag of an owned poll until {@link #forget(String)}. */
  void track(String poll, Supplier<Number> lag) {
    lagGauges.computeIfAbsent(
        poll,
        p ->
            Gauge.builder("tally.fold.lag", lag)
                .description("Ballots of an owned poll not yet folded")
                .baseUnit("ballots")
                .tag("poll", p)
                .strongReference(true)
                .register(registry));
  }

  void forget(String poll) {
    Gauge gauge = lagGauges.remove(poll);
    if (gauge != null) {
      registry.remove(gauge);
    }
  }

  public double folds() {
    return folds.count();
  }

  public double foldedBallots() {
    return foldedBallots.count();
  }

  public double rejections() {
    return rejections.count();
  }

  public double changes(Change change) {
    return changes.get(change).count();
  }
}
