package dev.fenced.vote.live;

import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.Collection;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Quantiles estimated from cumulative histogram buckets the way Prometheus's {@code
 * histogram_quantile} does: find the bucket the rank falls in and interpolate linearly inside it.
 * The estimate is only as fine as the buckets (Micrometer's percentile histogram has a few buckets
 * per doubling); a rank beyond the last bucket gives the last bucket's bound.
 */
final class HistogramQuantile {

  private final TreeMap<Double, Double> cumulative;
  private final double count;

  private HistogramQuantile(TreeMap<Double, Double> cumulative, double count) {
    this.cumulative = cumulative;
    this.count = count;
  }

  /**
   * The buckets of several snapshots added together (series of one metric that differ in a tag),
   * bounds in {@code unit} (null: the snapshots' base unit, for distribution summaries). Snapshots
   * with different bounds are merged by counting, at each bound, what every snapshot has at or
   * below it.
   */
  static HistogramQuantile of(Collection<HistogramSnapshot> snapshots, TimeUnit unit) {
    TreeMap<Double, Double> merged = new TreeMap<>();
    double count = 0;
    for (HistogramSnapshot s : snapshots) {
      count += s.count();
      for (CountAtBucket b : s.histogramCounts()) {
        merged.putIfAbsent(bound(b, unit), 0.0);
      }
    }
    for (HistogramSnapshot s : snapshots) {
      TreeMap<Double, Double> own = new TreeMap<>();
      for (CountAtBucket b : s.histogramCounts()) {
        own.put(bound(b, unit), b.count());
      }
      merged.replaceAll(
          (bound, sum) -> {
            var atOrBelow = own.floorEntry(bound);
            return sum + (atOrBelow == null ? 0 : atOrBelow.getValue());
          });
    }
    return new HistogramQuantile(merged, count);
  }

  private static double bound(CountAtBucket b, TimeUnit unit) {
    return unit == null ? b.bucket() : b.bucket(unit);
  }

  /** How many values were recorded. */
  double count() {
    return count;
  }

  /** The estimated {@code q}-quantile (0 < q < 1), or null when nothing fell into a bucket. */
  Double quantile(double q) {
    if (count <= 0 || cumulative.isEmpty()) {
      return null;
    }
    double rank = q * count;
    double lowerBound = 0;
    double lowerCount = 0;
    for (var bucket : cumulative.entrySet()) {
      double upperBound = bucket.getKey();
      double upperCount = bucket.getValue();
      if (upperCount >= rank && upperCount > lowerCount) {
        return lowerBound
            + (upperBound - lowerBound) * (rank - lowerCount) / (upperCount - lowerCount);
      }
      lowerBound = upperBound;
      lowerCount = upperCount;
    }
    return lowerBound;
  }
}
