package dev.fenced.vote.lock;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * The service's own series, exported by Prometheus as {@code fenced_lock_wait_seconds}, {@code
 * fenced_lock_hold_seconds} (histograms, per backend and policy), {@code fenced_lock_batch_votes}
 * (histogram of votes served per hold, per backend and policy), {@code
 * fenced_lock_acquire_failures_total} (per backend and reason), {@code
 * fenced_fence_rejections_total} (per backend) and {@code fenced_votes_total} (per outcome).
 */
@ApplicationScoped
public class LockMetrics {

  /** The largest batch the histogram's buckets are laid out for. */
  private static final double LARGEST_BATCH = 1024;

  private final MeterRegistry registry;

  LockMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * How long an acquire waited, whether it got the lock ({@code acquired}) or not ({@code failed}).
   */
  public void waited(String backend, String policy, boolean acquired, long nanos) {
    Timer.builder("fenced.lock.wait")
        .description("Time from asking for a lock to holding it or giving up")
        .tag("backend", backend)
        .tag("policy", policy)
        .tag("outcome", acquired ? "acquired" : "failed")
        .publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** How long a lock was held, from acquired to released. */
  public void held(String backend, String policy, long nanos) {
    Timer.builder("fenced.lock.hold")
        .description("Time a lock was held, from acquire to release")
        .tag("backend", backend)
        .tag("policy", policy)
        .publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** How many votes one hold served, over every batch it ran. */
  public void batch(String backend, String policy, long votes) {
    DistributionSummary.builder("fenced.lock.batch.votes")
        .description("Votes served by one hold of a vote lock (combining)")
        .baseUnit("votes")
        .tag("backend", backend)
        .tag("policy", policy)
        .publishPercentileHistogram()
        .minimumExpectedValue(1.0)
        .maximumExpectedValue(LARGEST_BATCH)
        .register(registry)
        .record(votes);
  }

  /** An acquire that failed, by {@code LockException.Reason} (or {@code CIRCUIT_OPEN}). */
  public void acquireFailed(String backend, String reason) {
    Counter.builder("fenced.lock.acquire.failures")
        .description("Acquires that did not get the lock, by reason")
        .tag("backend", backend)
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  /** A counter write refused because a newer fencing token had written the row. */
  public void fenceRejected(String backend) {
    Counter.builder("fenced.fence.rejections")
        .description("Counter writes refused by the fence (a stale holder)")
        .tag("backend", backend)
        .register(registry)
        .increment();
  }

  /** The end of one vote request. */
  public void vote(String outcome) {
    Counter.builder("fenced.votes")
        .description("Vote requests by outcome")
        .tag("outcome", outcome)
        .register(registry)
        .increment();
  }
}
