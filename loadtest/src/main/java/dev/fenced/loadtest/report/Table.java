package dev.fenced.loadtest.report;

import java.util.ArrayList;
import java.util.List;

/** A table of text cells, printed aligned for a terminal or as Markdown for the docs. */
final class Table {

  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  int columns() {
    return header.size();
  }

  Table row(List<String> cells) {
    if (cells.size() != header.size()) {
      throw new IllegalArgumentException(
          "a row of " + cells.size() + " cells in a table of " + header.size() + " columns");
    }
    rows.add(List.copyOf(cells));
    return this;
  }

  /** Columns padded to their widest cell, two spaces apart, as {@code column -t} would. */
  String text() {
    int[] widths = new int[header.size()];
    for (List<String> r : all()) {
      for (int c = 0; c < r.size(); c++) {
        widths[c] = Math.max(widths[c], r.get(c).codePointCount(0, r.get(c).length()));
      }
    }
    StringBuilder s = new StringBuilder();
    for (List<String> r : all()) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < r.size(); c++) {
        String cell = r.get(c);
        line.append(cell);
        if (c < r.size() - 1) {
          line.append(" ".repeat(widths[c] - cell.codePointCount(0, cell.length()) + 2));
        }
      }
      s.append(line.toString().stripTrailing()).append('\n');
    }
    return s.toString();
  }

  /** A Markdown table; every column but the first right-aligned (they hold numbers). */
  String markdown() {
    StringBuilder s = new StringBuilder();
    s.append("| ").append(String.join(" | ", header)).append(" |\n|---|");
    s.append("---:|".repeat(header.size() - 1)).append('\n');
    for (List<String> r : rows) {
      s.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    return s.toString();
  }

  private List<List<String>> all() {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    return all;
  }
}
