package dev.fenced.loadtest;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.OptionalDouble;

/**
 * The vote-api replicas' lock meters, summed over replicas, backends and policies: read from their
 * Prometheus pages ({@code /q/metrics}) before and after a phase, the difference says what the
 * phase cost in lock holds.
 *
 * @param batchHolds holds that served votes ({@code fenced_lock_batch_votes_count}); -1 when no
 *     replica exports the series
 * @param batchVotes votes served by those holds ({@code fenced_lock_batch_votes_sum}); -1 when not
 *     exported
 * @param holds holds timed ({@code fenced_lock_hold_seconds_count})
 * @param holdSeconds their total time held ({@code fenced_lock_hold_seconds_sum})
 * @param waits acquires that got the lock ({@code fenced_lock_wait_seconds_count{outcome=
 *     "acquired"}})
 * @param waitSeconds their total time waiting ({@code fenced_lock_wait_seconds_sum})
 * @param replicas how many replicas' pages were read
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LockStats(
    long batchHolds,
    long batchVotes,
    long holds,
    double holdSeconds,
    long waits,
    double waitSeconds,
    int replicas) {

  public static final LockStats EMPTY = new LockStats(-1, -1, 0, 0, 0, 0, 0);

  /** Reads one replica's Prometheus text exposition. */
  public static LockStats parse(String text) {
    long batchHolds = -1;
    long batchVotes = -1;
    long holds = 0;
    double holdSeconds = 0;
    long waits = 0;
    double waitSeconds = 0;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
      if (space < 0) {
        continue;
      }
      String name = line.substring(0, brace >= 0 ? brace : space);
      String labels = brace >= 0 ? line.substring(brace, space) : "";
      double value;
      try {
        value = Double.parseDouble(line.substring(space + 1).trim().split(" ")[0]);
      } catch (NumberFormatException e) {
        continue;
      }
      switch (name) {
        case "fenced_lock_batch_votes_count" -> batchHolds = Math.max(batchHolds, 0) + (long) value;
        case "fenced_lock_batch_votes_sum" -> batchVotes = Math.max(batchVotes, 0) + (long) value;
        case "fenced_lock_hold_seconds_count" -> holds += (long) value;
        case "fenced_lock_hold_seconds_sum" -> holdSeconds += value;
        case "fenced_lock_wait_seconds_count" -> {
          if (labels.contains("outcome=\"acquired\"")) {
            waits += (long) value;
          }
        }
        case "fenced_lock_wait_seconds_sum" -> {
          if (labels.contains("outcome=\"acquired\"")) {
            waitSeconds += value;
          }
        }
        default -> {}
      }
    }
    return new LockStats(batchHolds, batchVotes, holds, holdSeconds, waits, waitSeconds, 1);
  }

  /** Two replicas' (or two sums') meters together. */
  public LockStats plus(LockStats o) {
    return new LockStats(
        sumOrAbsent(batchHolds, o.batchHolds),
        sumOrAbsent(batchVotes, o.batchVotes),
        holds + o.holds,
        holdSeconds + o.holdSeconds,
        waits + o.waits,
        waitSeconds + o.waitSeconds,
        replicas + o.replicas);
  }

  /** What happened between {@code before} and this later reading of the same replicas. */
  public LockStats since(LockStats before) {
    boolean batches = batchHolds >= 0;
    return new LockStats(
        batches ? batchHolds - Math.max(0, before.batchHolds) : -1,
        batches ? batchVotes - Math.max(0, before.batchVotes) : -1,
        holds - before.holds,
        holdSeconds - before.holdSeconds,
        waits - before.waits,
        waitSeconds - before.waitSeconds,
        replicas);
  }

  /** Votes served per lock hold; empty when not exported or no hold happened. */
  @JsonIgnore
  public OptionalDouble votesPerHold() {
    return batchHolds > 0
        ? OptionalDouble.of((double) batchVotes / batchHolds)
        : OptionalDouble.empty();
  }

  /** Mean time a hold lasted, in milliseconds; empty when no hold was timed. */
  @JsonIgnore
  public OptionalDouble meanHoldMillis() {
    return holds > 0 ? OptionalDouble.of(holdSeconds * 1000 / holds) : OptionalDouble.empty();
  }

  /** Mean time an acquire waited for the lock, in milliseconds; empty when none was timed. */
  @JsonIgnore
  public OptionalDouble meanWaitMillis() {
    return waits > 0 ? OptionalDouble.of(waitSeconds * 1000 / waits) : OptionalDouble.empty();
  }

  private static long sumOrAbsent(long a, long b) {
    if (a < 0 && b < 0) {
      return -1;
    }
    return Math.max(0, a) + Math.max(0, b);
  }
}
