package dev.fenced.loadtest.report;

import dev.fenced.loadtest.Row;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The tables of a {@code scripts/compare.sh} run, and the docs written from them.
 *
 * <pre>
 * CompareReport --run DIR [--docs PAGE --data DIR]   print the run's tables; with --docs, keep the
 *                                                  run's data in --data and rewrite the page's
 *                                                  generated sections and charts from it
 * CompareReport --regenerate --docs PAGE --data DIR  rewrite them from the data kept
 * </pre>
 *
 * <p>Nothing in the generated sections is typed by hand: each measurement's data is kept as {@code
 * <data>/<kind>.json} and its section of the page (between {@code <!-- BEGIN generated: <kind> -->}
 * and {@code <!-- END generated: <kind> -->}) and chart ({@code <data>/chart-policies.svg}) are
 * made from it. Exit code 1 when a planned row is missing or failed (and for the policies, when the
 * run without a lock lost nothing, so the race was not shown), 2 on bad usage.
 */
public final class CompareReport {

  private CompareReport() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> opts;
    try {
      opts = options(args);
    } catch (IllegalArgumentException e) {
      System.err.println("compare-report: " + e.getMessage());
      System.exit(2);
      return;
    }
    Path docs = opts.containsKey("docs") ? Path.of(opts.get("docs")) : null;
    Path data = opts.containsKey("data") ? Path.of(opts.get("data")) : null;
    if (opts.containsKey("regenerate")) {
      regenerate(docs, data);
      return;
    }
    Path run = Path.of(opts.get("run"));
    boolean failed = false;
    List<Dataset> measured = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      Optional<Dataset> dataset = Dataset.fromRun(run, kind);
      if (dataset.isEmpty()) {
        continue;
      }
      measured.add(dataset.get());
      Tables.Result result = Tables.of(dataset.get());
      System.out.println();
      System.out.println(heading(dataset.get()));
      System.out.print(result.table().text());
      for (String note : result.notes()) {
        System.out.println(note);
      }
      for (String failure : result.failures()) {
        System.out.println("FAIL " + failure);
      }
      failed |= !result.failures().isEmpty();
    }
    if (measured.isEmpty()) {
      System.err.println("compare-report: no measurement in " + run);
      System.exit(2);
    }
    if (docs != null) {
      for (Dataset d : measured) {
        d.write(data.resolve(d.kind().id() + ".json"));
      }
      write(docs, data, measured.stream().map(Dataset::kind).toList());
    }
    System.exit(failed ? 1 : 0);
  }

  static Map<String, String> options(String[] args) {
    Map<String, String> opts = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--regenerate" -> opts.put("regenerate", "true");
        case "--run", "--docs", "--data" -> {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(args[i] + " needs a value");
          }
          opts.put(args[i].substring(2), args[++i]);
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (opts.containsKey("docs") != opts.containsKey("data")) {
      throw new IllegalArgumentException("--docs and --data go together");
    }
    if (opts.containsKey("regenerate") ? !opts.containsKey("docs") : !opts.containsKey("run")) {
      throw new IllegalArgumentException(
          "usage: CompareReport --run DIR [--docs PAGE --data DIR] | --regenerate --docs PAGE"
              + " --data DIR");
    }
    return opts;
  }

  /** Rewrites every section whose data is kept in {@code data}. */
  static void regenerate(Path docs, Path data) throws IOException {
    List<Kind> kinds = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      if (Files.exists(data.resolve(kind.id() + ".json"))) {
        kinds.add(kind);
      }
    }
    write(docs, data, kinds);
  }

  private static void write(Path docs, Path data, List<Kind> kinds) throws IOException {
    String page = Files.readString(docs, StandardCharsets.UTF_8);
    for (Kind kind : kinds) {
      Dataset d = Dataset.read(data.resolve(kind.id() + ".json"));
      page = DocSections.replace(page, kind.id(), section(d, docs, data));
      if (kind == Kind.POLICIES) {
        Files.writeString(data.resolve("chart-policies.svg"), chart(d), StandardCharsets.UTF_8);
      }
    }
    Files.writeString(docs, page, StandardCharsets.UTF_8);
    System.out.println("wrote " + docs + " (" + kinds.size() + " section(s)) from " + data);
  }

  /** The Markdown of one measurement: how it was run, the table, the notes, the chart. */
  static String section(Dataset d, Path docs, Path data) {
    Tables.Result result = Tables.of(d);
    StringBuilder s = new StringBuilder();
    s.append("<!-- Generated from ")
        .append(link(docs, data.resolve(d.kind().id() + ".json")))
        .append(" by `scripts/compare.sh ... --write-docs`; do not edit. -->\n\n");
    s.append(
        d.meta().entrySet().stream()
            .map(e -> "- " + e.getKey() + ": " + e.getValue())
            .collect(Collectors.joining("\n", "", "\n\n")));
    s.append(result.table().markdown()).append('\n');
    for (String note : result.notes()) {
      s.append(note).append('\n');
    }
    for (String failure : result.failures()) {
      s.append("- **FAIL** ").append(failure).append('\n');
    }
    if (d.kind() == Kind.POLICIES) {
      s.append('\n')
          .append("![votes/s and p99 per policy](")
          .append(link(docs, data.resolve("chart-policies.svg")))
          .append(")\n");
    }
    return s.toString();
  }

  static String chart(Dataset d) {
    List<Row> rows = d.plan().stream().map(d::row).flatMap(Optional::stream).toList();
    return PolicyChart.svg(
        "Votes through nginx, closed loop: " + d.meta().getOrDefault("closed loop", "?"), rows);
  }

  private static String heading(Dataset d) {
    return switch (d.kind()) {
      case POLICIES -> "policies: closed loop " + d.meta().getOrDefault("closed loop", "");
      case SCALING -> "scaling: " + d.meta().getOrDefault("scaling", "");
      case IDLE_POLLS -> "idle polls: " + d.meta().getOrDefault("idle polls", "");
      case READS -> "reads: " + d.meta().getOrDefault("reads", "");
    };
  }

  private static String link(Path docs, Path file) {
    Path base = docs.toAbsolutePath().getParent();
    return base.relativize(file.toAbsolutePath()).toString().replace('\\', '/');
  }
}
