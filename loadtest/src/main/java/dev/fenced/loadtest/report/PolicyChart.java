package dev.fenced.loadtest.report;

import dev.fenced.loadtest.Row;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The policies side by side as an SVG drawn from a run's rows: votes per second (longer is better)
 * and the 99th percentile of the votes' latency (shorter is better), one bar each per policy, on
 * linear scales. Colours as in the benchmarks' charts: fenced locks dark blue, no-lock baselines
 * green; the run without a lock, which loses votes, red.
 */
final class PolicyChart {

  private static final int LABEL = 150;
  private static final int PANEL = 300;
  private static final int GAP = 70;
  private static final int BAR = 14;
  private static final int STEP = 20;
  private static final int TOP = 64;

  private PolicyChart() {}

  static String svg(String title, List<Row> rows) {
    int height = TOP + rows.size() * STEP + 52;
    int width = LABEL + 2 * PANEL + GAP + 70;
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                + "<text x=\"4\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>%n",
            width,
            height,
            esc(title)));
    panel(s, rows, LABEL, "votes/s (longer is better)", r -> ClosedLoop.of(r).votesPerSecond());
    panel(s, rows, LABEL + PANEL + GAP, "p99 ms (shorter is better)", r -> ClosedLoop.of(r).p99());
    for (int i = 0; i < rows.size(); i++) {
      s.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
              LABEL - 6,
              TOP + i * STEP + BAR - 2,
              esc(rows.get(i).label())));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "<text x=\"4\" y=\"%d\">blue: a lock; green: no lock, the database adds"
                + " (Atomic); red: no lock, read-modify-write (None, loses votes)</text>%n",
            height - 8));
    s.append("</svg>\n");
    return s.toString();
  }

  private static void panel(
      StringBuilder s, List<Row> rows, int x0, String caption, ToDoubleFunction<Row> value) {
    double max = rows.stream().mapToDouble(value).filter(v -> v > 0).max().orElse(1);
    double top = niceCeiling(max);
    int bottom = TOP + rows.size() * STEP;
    s.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"44\" font-weight=\"bold\">%s</text>%n",
            x0,
            esc(caption)));
    for (int t = 0; t <= 4; t++) {
      double x = x0 + PANEL * t / 4.0;
      s.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>%n"
                  + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>%n",
              x,
              TOP - 6,
              x,
              bottom,
              x,
              bottom + 16,
              Cells.rate(top * t / 4)));
    }
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      double v = value.applyAsDouble(r);
      if (!(v >= 0)) {
        continue;
      }
      double w = Math.max(1, PANEL * Math.min(v, top) / top);
      int y = TOP + i * STEP;
      s.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n"
                  + "<text x=\"%.1f\" y=\"%d\">%s</text>%n",
              x0,
              y,
              w,
              BAR,
              colour(r),
              x0 + w + 4,
              y + BAR - 2,
              Cells.rate(v)));
    }
  }

  /** The smallest 1, 2 or 5 times a power of ten at or above {@code v}. */
  static double niceCeiling(double v) {
    double power = Math.pow(10, Math.floor(Math.log10(v)));
    for (double step : new double[] {1, 2, 5, 10}) {
      if (step * power >= v) {
        return step * power;
      }
    }
    return 10 * power;
  }

  private static String colour(Row r) {
    if (r.policy().equalsIgnoreCase(Tables.NO_LOCK)) {
      return "#c0392b";
    }
    if (r.label().equals(Tables.ATOMIC)) {
      return "#3c9a3c";
    }
    return "#1f4e9c";
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
