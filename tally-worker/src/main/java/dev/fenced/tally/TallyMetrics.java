package dev.fenced.tally;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The worker's meters. In Prometheus: {@code fenced_tally_lag_seconds}, {@code
 * fenced_tally_pending_ballots}, {@code tally_owned_shards}, {@code tally_live_workers}, {@code
 * tally_folds_total}, {@code tally_folded_ballots_total}, {@code tally_fence_rejections_total},
 * {@code tally_ownership_changes_total{change}}. No series per poll: their number would grow with
 * the polls.
 */
public final class TallyMetrics {

  /** Why ownership of a shard changed. */
  public enum Change {
    ACQUIRED,
    /** Given up: another live worker wants the shard, or the worker stops. */
    RELEASED,
    /** The lock reported its loss ({@code handle.lost()}). */
    LOST,
    /** A fold was refused by the fence: a newer owner exists. */
    REJECTED
  }

  private final Counter folds;
  private final Counter foldedBallots;
  private final Counter rejections;
  private final Map<Change, Counter> changes = new ConcurrentHashMap<>();
  private final AtomicLong liveWorkers = new AtomicLong();

  /**
   * @param ownedShards shards this worker owns now
   * @param lagSeconds age of the oldest ballot not yet folded among the owned shards' polls, 0 when
   *     caught up
   * @param pendingBallots ballots of the owned shards' polls visible but not yet folded
   */
  public TallyMetrics(
      MeterRegistry registry,
      Supplier<Number> ownedShards,
      Supplier<Number> lagSeconds,
      Supplier<Number> pendingBallots) {
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
            .description("Folds rolled back because a newer owner of the shard had folded")
            .register(registry);
    for (Change change : Change.values()) {
      changes.put(
          change,
          Counter.builder("tally.ownership.changes")
              .description("Shards this worker started or stopped owning, by cause")
              .tag("change", change.name().toLowerCase())
              .register(registry));
    }
    Gauge.builder("tally.owned.shards", ownedShards)
        .description("Tally shards this worker owns now")
        .register(registry);
    Gauge.builder("tally.live.workers", liveWorkers, AtomicLong::get)
        .description("Tally workers with a fresh membership heartbeat, this one included")
        .register(registry);
    Gauge.builder("fenced.tally.lag", lagSeconds)
        .description(
            "Age of the oldest ballot not yet folded among the polls of the shards this worker"
                + " owns; 0 when caught up")
        .baseUnit("seconds")
        .register(registry);
    Gauge.builder("fenced.tally.pending", pendingBallots)
        .description(
            "Ballots of the polls of the shards this worker owns that are visible but not yet"
                + " folded")
        .baseUnit("ballots")
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
