package dev.fenced.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A horizontal bar chart on a log scale, written as SVG text from measured values: the report's
 * charts are data, regenerated with the tables, never drawn by hand.
 */
final class BarChart {

  /** One bar; {@code group} starts a new labelled block when it changes. */
  record Bar(String group, String label, double value, String colour) {}

  private static final int LABEL_WIDTH = 330;
  private static final int PLOT_WIDTH = 520;
  private static final int BAR_HEIGHT = 16;
  private static final int GAP = 4;
  private static final int GROUP_GAP = 22;

  private final String title;
  private final String unit;
  private final List<Bar> bars = new ArrayList<>();

  BarChart(String title, String unit) {
    this.title = title;
    this.unit = unit;
  }

  BarChart add(String group, String label, double value, String colour) {
    if (value > 0 && Double.isFinite(value)) {
      bars.add(new Bar(group, label, value, colour));
    }
    return this;
  }

  String svg() {
    double min = bars.stream().mapToDouble(Bar::value).min().orElse(1);
    double max = bars.stream().mapToDouble(Bar::value).max().orElse(10);
    double lo = Math.floor(Math.log10(min));
    double hi = Math.ceil(Math.log10(max));
    if (hi <= lo) {
      hi = lo + 1;
    }
    StringBuilder body = new StringBuilder();
    int y = 40;
    String group = null;
    for (Bar bar : bars) {
      if (!bar.group().equals(group)) {
        group = bar.group();
        y += group == null ? 0 : GAP;
        body.append(
            String.format(
                Locale.ROOT,
                "<text x=\"4\" y=\"%d\" font-weight=\"bold\">%s</text>%n",
                y + 12,
                esc(group)));
        y += GROUP_GAP;
      }
      double width = PLOT_WIDTH * (Math.log10(bar.value()) - lo) / (hi - lo);
      body.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
              LABEL_WIDTH - 6,
              y + 12,
              esc(bar.label())));
      body.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
              LABEL_WIDTH,
              y,
              Math.max(1, width),
              BAR_HEIGHT,
              bar.colour()));
      body.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\">%s</text>%n",
              LABEL_WIDTH + Math.max(1, width) + 4,
              y + 12,
              Report.number(bar.value())));
      y += BAR_HEIGHT + GAP;
    }
    int height = y + 40;
    StringBuilder axis = new StringBuilder();
    for (int e = (int) lo; e <= (int) hi; e++) {
      double x = LABEL_WIDTH + PLOT_WIDTH * (e - lo) / (hi - lo);
      axis.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"36\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>%n"
                  + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
              x,
              x,
              y,
              x,
              y + 16,
              Report.number(Math.pow(10, e))));
    }
    return String.format(
        Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
            + " font-family=\"sans-serif\" font-size=\"12\">%n"
            + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
            + "<text x=\"4\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>%n"
            + "%s%s"
            + "<text x=\"%d\" y=\"%d\">%s (log scale)</text>%n"
            + "</svg>%n",
        LABEL_WIDTH + PLOT_WIDTH + 90,
        height,
        esc(title),
        axis,
        body,
        LABEL_WIDTH,
        y + 34,
        esc(unit));
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
