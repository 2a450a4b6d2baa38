package dev.fenced.operator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads series out of the Prometheus text format that {@code /q/metrics} serves. */
final class PrometheusText {

  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private PrometheusText() {}

  /**
   * The value of the one series named {@code name} whose labels include {@code labels}; null when
   * there is none.
   *
   * @throws IllegalStateException when several series match
   */
  static Double value(String body, String name, Map<String, String> labels) {
    List<Double> found = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String metric =
          brace >= 0 && brace < space ? line.substring(0, brace) : line.substring(0, space);
      if (!metric.equals(name)) {
        continue;
      }
      Map<String, String> have = new HashMap<>();
      if (brace >= 0 && brace < space) {
        Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
        while (m.find()) {
          have.put(m.group(1), m.group(2));
        }
      }
      if (have.entrySet().containsAll(labels.entrySet())) {
        found.add(Double.valueOf(line.substring(space + 1).trim()));
      }
    }
    if (found.size() > 1) {
      throw new IllegalStateException(found.size() + " series of " + name + " match " + labels);
    }
    return found.isEmpty() ? null : found.get(0);
  }
}
