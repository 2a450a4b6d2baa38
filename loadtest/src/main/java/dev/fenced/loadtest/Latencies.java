package dev.fenced.loadtest;

import java.util.Arrays;

/**
 * Response times of one phase of a load run, in milliseconds, as Gatling measured them ({@code
 * responseTimeInMillis}), kept whole so that percentiles are exact (nearest rank) rather than read
 * from buckets. A run records at most some hundreds of thousands of answers: an {@code int} each.
 */
public final class Latencies {

  private int[] values = new int[1024];
  private int size;

  /** Records one response time; negative values (no answer timed) are ignored. */
  public synchronized void record(long millis) {
    if (millis < 0) {
      return;
    }
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = (int) Math.min(Integer.MAX_VALUE, millis);
  }

  public synchronized int count() {
    return size;
  }

  /** The percentiles of what was recorded so far. */
  public synchronized Percentiles percentiles() {
    if (size == 0) {
      return Percentiles.NONE;
    }
    int[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    return new Percentiles(size, rank(sorted, 50), rank(sorted, 99), sorted[size - 1]);
  }

  /**
   * Nearest-rank percentile: the smallest value with at least {@code p} % of values at or below.
   */
  static int rank(int[] sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /**
   * Percentiles of a phase, in milliseconds.
   *
   * @param n answers measured (0: none, and the other fields are -1)
   * @param p50 median
   * @param p99 99th percentile
   * @param max the slowest answer
   */
  public record Percentiles(long n, long p50, long p99, long max) {
    public static final Percentiles NONE = new Percentiles(0, -1, -1, -1);
  }
}
