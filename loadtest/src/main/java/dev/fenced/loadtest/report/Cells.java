package dev.fenced.loadtest.report;

import dev.fenced.loadtest.LockStats;
import dev.fenced.loadtest.VoteSummary;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the tables write their numbers: no more digits than the measurement carries. */
final class Cells {

  static final String NONE = "–";

  private Cells() {}

  static String rate(double perSecond) {
    return Double.isFinite(perSecond) ? String.format(Locale.ROOT, "%.0f", perSecond) : NONE;
  }

  static String millis(long ms) {
    return ms < 0 ? NONE : Long.toString(ms);
  }

  static String millis(double ms) {
    if (!Double.isFinite(ms) || ms < 0) {
      return NONE;
    }
    return ms < 10
        ? String.format(Locale.ROOT, "%.2f", ms)
        : String.format(Locale.ROOT, "%.0f", ms);
  }

  /** Two decimals; three below 0.1, so that a small ratio does not read as zero. */
  static String times(double ratio) {
    if (!Double.isFinite(ratio)) {
      return NONE;
    }
    return String.format(Locale.ROOT, ratio < 0.1 ? "%.3f×" : "%.2f×", ratio);
  }

  static String count(long n) {
    return Long.toString(n);
  }

  /**
   * The highest rate met; {@code ≥} when the last level was met, {@code <} when none was, and the
   * lower rates that missed on their own, e.g. {@code 1500 (missed 25)}.
   */
  static String capacity(VoteSummary.Capacity capacity) {
    if (capacity == null || capacity.levels().isEmpty()) {
      return NONE;
    }
    var at = capacity.atSlo();
    if (at.isEmpty()) {
      return "<" + rate(capacity.levels().get(0).rate());
    }
    String cell = (capacity.ceilingReached() ? "≥" : "") + rate(at.getAsDouble());
    List<Double> missed = capacity.missedBelow();
    if (missed.isEmpty()) {
      return cell;
    }
    return cell
        + missed.stream().map(Cells::rate).collect(Collectors.joining(", ", " (missed ", ")"));
  }

  static String perHold(LockStats stats) {
    if (stats == null || stats.votesPerHold().isEmpty()) {
      return NONE;
    }
    return String.format(Locale.ROOT, "%.1f", stats.votesPerHold().getAsDouble());
  }

  /** Seconds with one decimal; {@code >wait} when the tally did not catch up within the wait. */
  static String lag(Long millis) {
    if (millis == null) {
      return NONE;
    }
    if (millis < 0) {
      return "not caught up";
    }
    return String.format(Locale.ROOT, "%.1f", millis / 1000.0);
  }
}
