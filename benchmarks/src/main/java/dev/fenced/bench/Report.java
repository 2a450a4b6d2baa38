package dev.fenced.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fenced.bench.Targets.Kind;
import dev.fenced.bench.Targets.Target;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes {@code docs/choosing-a-lock.md} from one measured run: the JMH JSON ({@code
 * results-STAMP.json}), the hand-off JSON ({@code handoff-STAMP.json}) and the run's notes ({@code
 * meta-STAMP.json}), inserted into a hand-written template at its {@code {{...}}} markers, plus SVG
 * charts. Nothing in the tables or charts is typed by hand: regenerate instead.
 *
 * <p>{@code Report --results DIR|results-STAMP.json --template FILE --out FILE --charts DIR
 * [--correctness FILE] [--profile FILE]}: the correctness table is a TSV of results measured
 * elsewhere (the load test, the contract suite); the profile notes are hand-written Markdown about
 * the run they sit next to.
 */
public final class Report {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Cycles per second and latency of one cycle (ms) for one benchmark of one target. */
  /**
   * @param relError half-width of JMH's 99.9 % confidence interval of the score, relative to it
   *     (NaN when JMH gave none, e.g. a single iteration)
   */
  record Cycle(
      double perSecond, boolean derived, double p50, double p99, int threads, double relError) {}

  /**
   * Release-to-next-holder latency (ms).
   *
   * @param relError half the spread of the p50s of the run's consecutive blocks of rounds, relative
   *     to the p50 (NaN when the run has no blocks)
   */
  record HandOffResult(double p50, double p99, int n, String error, double relError) {}

  private final Map<String, Cycle> uncontended = new HashMap<>();
  private final Map<String, Cycle> contended = new HashMap<>();
  private final Map<String, HandOffResult> handOff = new HashMap<>();
  private JsonNode meta = JSON.createObjectNode();
  private String jmhSettings = "";

  public static void main(String[] args) throws IOException {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    Path results = resultsFile(Path.of(require(opts, "--results")));
    Path template = Path.of(require(opts, "--template"));
    Path out = Path.of(require(opts, "--out"));
    Path charts = Path.of(require(opts, "--charts"));
    Path correctness =
        opts.containsKey("--correctness") ? Path.of(opts.get("--correctness")) : null;
    Path profile = opts.containsKey("--profile") ? Path.of(opts.get("--profile")) : null;
    Report report = new Report();
    report.read(results);
    String text = Files.readString(template);
    Files.createDirectories(charts);
    Map<String, String> parts = new LinkedHashMap<>();
    parts.put("{{meta}}", report.metaSection(results));
    parts.put("{{glance}}", report.glanceTable());
    parts.put("{{ratios}}", report.ratioTable());
    parts.put("{{profile}}", profile == null ? "" : Files.readString(profile));
    parts.put("{{focus}}", focusSection(opts.get("--focus")));
    parts.put("{{correctness}}", correctness == null ? "" : correctnessTable(correctness));
    parts.put("{{charts}}", report.charts(out, charts));
    for (Map.Entry<String, String> part : parts.entrySet()) {
      text = text.replace(part.getKey(), part.getValue().strip());
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, text);
    System.out.println("wrote " + out + " from " + results);
  }

  private static String require(Map<String, String> opts, String name) {
    String value = opts.get(name);
    if (value == null) {
      throw new IllegalArgumentException(
          "missing "
              + name
              + "; usage: Report --results DIR|FILE --template FILE --out FILE"
              + " --charts DIR [--correctness FILE] [--profile FILE] [--focus DIR]");
    }
    return value;
  }

  /** The ratios of the newest focused run (more forks and iterations), with its settings. */
  private static String focusSection(String dir) throws IOException {
    if (dir == null || !Files.isDirectory(Path.of(dir))) {
      return "No focused run yet: `scripts/bench.sh --focus` measures these rows.";
    }
    Path results;
    try {
      results = resultsFile(Path.of(dir));
    } catch (IllegalArgumentException e) {
      return "No focused run yet: `scripts/bench.sh --focus` measures these rows.";
    }
    Report focus = new Report();
    focus.read(results);
    return focus.metaSection(results) + "\n" + focus.ratioTable();
  }

  /** A results file as given, or the newest {@code results-*.json} of a folder. */
  static Path resultsFile(Path given) throws IOException {
    if (!Files.isDirectory(given)) {
      return given;
    }
    try (Stream<Path> files = Files.list(given)) {
      return files
          .filter(p -> p.getFileName().toString().matches("results-.*\\.json"))
          .max(Path::compareTo)
          .orElseThrow(() -> new IllegalArgumentException("no results-*.json in " + given));
    }
  }

  private static Path sibling(Path results, String prefix) {
    return results.resolveSibling(
        results.getFileName().toString().replaceFirst("^results-", prefix + "-"));
  }

  void read(Path results) throws IOException {
    for (JsonNode run : JSON.readTree(results.toFile())) {
      String benchmark = run.path("benchmark").asText();
      String target = run.path("params").path("target").asText();
      int threads = run.path("threads").asInt();
      Map<String, Cycle> into = benchmark.endsWith(".contended") ? contended : uncontended;
      JsonNode metric = run.path("primaryMetric");
      Cycle old = into.get(target);
      if ("thrpt".equals(run.path("mode").asText())) {
        double perSecond = perSecond(metric.path("score").asDouble(), metric.path("scoreUnit"));
        into.put(
            target,
            new Cycle(
                perSecond,
                false,
                old == null ? Double.NaN : old.p50(),
                old == null ? Double.NaN : old.p99(),
                threads,
                relativeError(metric)));
      } else if ("sample".equals(run.path("mode").asText())) {
        double meanMs = metric.path("score").asDouble();
        JsonNode pct = metric.path("scorePercentiles");
        double perSecond =
            old != null && !old.derived() ? old.perSecond() : threads * 1000.0 / meanMs;
        boolean derived = old == null || old.derived();
        into.put(
            target,
            new Cycle(
                perSecond,
                derived,
                pct.path("50.0").asDouble(),
                pct.path("99.0").asDouble(),
                threads,
                // Cycles/s derived from the mean cycle time share its relative error.
                derived ? relativeError(metric) : old.relError()));
      }
      jmhSettings =
          String.format(
              Locale.ROOT,
              "%d fork(s); warm-up %d × %s; measurement %d × %s",
              run.path("forks").asInt(),
              run.path("warmupIterations").asInt(),
              run.path("warmupTime").asText(),
              run.path("measurementIterations").asInt(),
              run.path("measurementTime").asText());
    }
    Path handOffFile = sibling(results, "handoff");
    if (Files.exists(handOffFile)) {
      for (JsonNode r : JSON.readTree(handOffFile.toFile()).path("results")) {
        handOff.put(
            r.path("target").asText(),
            new HandOffResult(
                r.path("p50Ms").asDouble(Double.NaN),
                r.path("p99Ms").asDouble(Double.NaN),
                r.path("n").asInt(),
                r.hasNonNull("error") ? r.path("error").asText() : null,
                blockSpread(r.path("p50ByBlockMs"), r.path("p50Ms").asDouble(Double.NaN))));
      }
    }
    Path metaFile = sibling(results, "meta");
    if (Files.exists(metaFile)) {
      meta = JSON.readTree(metaFile.toFile());
    }
  }

  private static double relativeError(JsonNode metric) {
    double score = metric.path("score").asDouble(Double.NaN);
    double error = metric.path("scoreError").asDouble(Double.NaN);
    return score > 0 && error >= 0 ? error / score : Double.NaN;
  }

  private static double blockSpread(JsonNode blocks, double p50) {
    if (!blocks.isArray() || blocks.size() < 2 || !(p50 > 0)) {
      return Double.NaN;
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (JsonNode b : blocks) {
      min = Math.min(min, b.asDouble());
      max = Math.max(max, b.asDouble());
    }
    return (max - min) / 2 / p50;
  }

  private static double perSecond(double score, JsonNode unit) {
    return switch (unit.asText()) {
      case "ops/s" -> score;
      case "ops/ms" -> score * 1_000;
      case "ops/us" -> score * 1_000_000;
      default -> throw new IllegalArgumentException("unexpected throughput unit " + unit);
    };
  }

  private String metaSection(Path results) {
    StringBuilder s = new StringBuilder();
    s.append("- Results: `").append(results.getFileName()).append("` (JMH JSON) and `");
    s.append(sibling(results, "handoff").getFileName()).append("`, in `");
    s.append(results.getParent() == null ? "." : results.getParent().toString().replace('\\', '/'));
    s.append("/`\n");
    meta.fields()
        .forEachRemaining(
            f ->
                s.append("- ")
                    .append(f.getKey())
                    .append(": ")
                    .append(f.getValue().asText())
                    .append('\n'));
    s.append("- JMH: ").append(jmhSettings).append('\n');
    boolean anyDerived =
        Stream.concat(uncontended.values().stream(), contended.values().stream())
            .anyMatch(Cycle::derived);
    if (anyDerived) {
      s.append(
          "- Cycles/s marked * are threads ÷ mean cycle time from the SampleTime run (Little's law"
              + " for a closed loop); the others come from a Throughput run\n");
    }
    return s.toString();
  }

  private String glanceTable() {
    StringBuilder s = new StringBuilder();
    String backend = null;
    for (Target t : Targets.all()) {
      Cycle u = uncontended.get(t.id());
      Cycle c = contended.get(t.id());
      HandOffResult h = handOff.get(t.id());
      if (u == null && c == null && h == null) {
        continue;
      }
      if (!t.backend().equals(backend)) {
        backend = t.backend();
        s.append("\n#### ").append(backend).append("\n\n");
        s.append(
            "| what | kind | uncontended cycles/s (4 threads) | p50 / p99 ms | contended cycles/s"
                + " (8 threads, 1 name) | p50 / p99 ms | hand-off p50 / p99 ms |\n");
        s.append("|---|---|---:|---:|---:|---:|---:|\n");
      }
      s.append("| ")
          .append(t.kind() == Kind.FENCED ? "**" + t.label() + "**" : t.label())
          .append(" | ")
          .append(kind(t.kind()))
          .append(" | ")
          .append(rate(u))
          .append(" | ")
          .append(latency(u))
          .append(" | ")
          .append(rate(c))
          .append(" | ")
          .append(latency(c))
          .append(" | ")
          .append(handOffCell(h))
          .append(" |\n");
    }
    return s.toString();
  }

  private static String kind(Kind kind) {
    return switch (kind) {
      case FENCED -> "fenced";
      case PEER -> "peer";
      case LIMIT -> "limit";
      case NO_LOCK -> "no lock";
    };
  }

  private static String rate(Cycle c) {
    return c == null ? "–" : number(c.perSecond()) + (c.derived() ? "*" : "");
  }

  private static String latency(Cycle c) {
    return c == null || Double.isNaN(c.p50()) ? "–" : number(c.p50()) + " / " + number(c.p99());
  }

  private static String handOffCell(HandOffResult h) {
    if (h == null) {
      return "–";
    }
    if (h.error() != null) {
      return "failed";
    }
    return number(h.p50()) + " / " + number(h.p99());
  }

  /** A ratio with its error bar; the relative errors of the two figures add up. */
  record Ratio(double value, double error) {
    static final Ratio NONE = new Ratio(Double.NaN, Double.NaN);

    static Ratio of(double ours, double theirs, double ourRelError, double theirRelError) {
      double value = ours / theirs;
      double rel =
          Double.isNaN(ourRelError) || Double.isNaN(theirRelError)
              ? Double.NaN
              : ourRelError + theirRelError;
      return new Ratio(value, value * rel);
    }
  }

  /** fenced ÷ comparator, per fenced target and comparator of its backend, with the goals. */
  private String ratioTable() {
    StringBuilder s = new StringBuilder();
    s.append(
        "| backend | fenced | compared with | uncontended cycles/s ratio | contended cycles/s"
            + " ratio | hand-off speed ratio (their p50 ÷ ours) | goal |\n");
    s.append("|---|---|---|---:|---:|---:|---|\n");
    List<Target> all = Targets.all();
    for (Target f : all) {
      if (f.kind() != Kind.FENCED || !measured(f.id())) {
        continue;
      }
      for (Target other : all) {
        if (!other.backend().equals(f.backend())
            || other.kind() == Kind.FENCED
            || other.kind() == Kind.NO_LOCK
            || !measured(other.id())) {
          continue;
        }
        Ratio ru = ratio(uncontended.get(f.id()), uncontended.get(other.id()));
        Ratio rc = ratio(contended.get(f.id()), contended.get(other.id()));
        Ratio rh =
            other.kind() == Kind.PEER
                ? handOffRatio(handOff.get(f.id()), handOff.get(other.id()))
                : Ratio.NONE;
        s.append("| ")
            .append(f.backend())
            .append(" | ")
            .append(f.label())
            .append(" | ")
            .append(other.label())
            .append(" (")
            .append(kind(other.kind()))
            .append(") | ")
            .append(times(ru))
            .append(" | ")
            .append(times(rc))
            .append(" | ")
            .append(times(rh))
            .append(" | ")
            .append(goal(f, other, ru, rc, rh))
            .append(" |\n");
      }
    }
    return s.toString();
  }

  private boolean measured(String id) {
    return uncontended.containsKey(id) || contended.containsKey(id) || handOff.containsKey(id);
  }

  private static Ratio ratio(Cycle ours, Cycle theirs) {
    return ours == null || theirs == null
        ? Ratio.NONE
        : Ratio.of(ours.perSecond(), theirs.perSecond(), ours.relError(), theirs.relError());
  }

  private static Ratio handOffRatio(HandOffResult ours, HandOffResult theirs) {
    if (ours == null || theirs == null || ours.error() != null || theirs.error() != null) {
      return Ratio.NONE;
    }
    return Ratio.of(theirs.p50(), ours.p50(), theirs.relError(), ours.relError());
  }

  /** The issue's goals: Redis against its limit and Redisson, every other backend ≥ its peer. */
  private static String goal(Target fenced, Target other, Ratio ru, Ratio rc, Ratio rh) {
    List<String> checks = new ArrayList<>();
    if (other.kind() == Kind.LIMIT) {
      if (other.id().equals("limit-redis")) {
        checks.add(check("uncontended ≥ 0.4×", ru, 0.4));
      }
    } else if (other.id().equals("redisson-rlock")) {
      checks.add(check("uncontended ≥ 1.0×", ru, 1.0));
      checks.add(check("contended ≥ 1.5×", rc, 1.5));
      checks.add(check("hand-off ≥ 1.5×", rh, 1.5));
    } else if (other.kind() == Kind.PEER && !other.id().equals("redisson-fencedlock")) {
      checks.add(check("uncontended ≥ 1.0×", ru, 1.0));
      checks.add(check("contended ≥ 1.0×", rc, 1.0));
      checks.add(check("hand-off ≥ 1.0×", rh, 1.0));
    }
    return String.join("; ", checks);
  }

  /**
   * Met or missed only when the whole error bar is on one side of the goal; a bar across the goal
   * decides nothing. Without an error bar (a single iteration) the ratio alone decides.
   */
  static String check(String what, Ratio ratio, double goal) {
    if (Double.isNaN(ratio.value())) {
      return what + " not measured";
    }
    if (Double.isNaN(ratio.error())) {
      return what + (ratio.value() >= goal ? " met" : " **missed**");
    }
    if (ratio.value() - ratio.error() >= goal) {
      return what + " met";
    }
    if (ratio.value() + ratio.error() < goal) {
      return what + " **missed**";
    }
    return what + " undecided (error bar spans the goal)";
  }

  /**
   * A ratio with two decimals, or two significant digits below 0.1 (fenced InProcess against a bare
   * {@code ReentrantLock} is about 0.005×, which two decimals show as 0.00), and its error bar to
   * the same decimals.
   */
  static String times(Ratio ratio) {
    if (Double.isNaN(ratio.value())) {
      return "–";
    }
    BigDecimal value =
        ratio.value() == 0 || Math.abs(ratio.value()) >= 0.1
            ? BigDecimal.valueOf(ratio.value()).setScale(2, RoundingMode.HALF_UP)
            : new BigDecimal(ratio.value()).round(new MathContext(2, RoundingMode.HALF_UP));
    if (Double.isNaN(ratio.error())) {
      return value.toPlainString() + "×";
    }
    BigDecimal error =
        BigDecimal.valueOf(ratio.error())
            .setScale(Math.max(2, value.scale()), RoundingMode.HALF_UP);
    return value.toPlainString() + "× ± " + error.toPlainString();
  }

  private static String correctnessTable(Path tsv) throws IOException {
    List<String> lines = Files.readAllLines(tsv);
    StringBuilder s = new StringBuilder();
    boolean header = true;
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] cells = line.split("\t");
      s.append("| ").append(String.join(" | ", cells)).append(" |\n");
      if (header) {
        s.append("|").append("---|".repeat(cells.length)).append('\n');
        header = false;
      }
    }
    return s.toString();
  }

  private String charts(Path out, Path dir) throws IOException {
    BarChart u = new BarChart("Uncontended: cycles/s, 4 threads, own lock name each", "cycles/s");
    BarChart c = new BarChart("Contended: cycles/s, 8 threads on one lock name", "cycles/s");
    BarChart h = new BarChart("Hand-off: release → next holder, p50", "ms (shorter is better)");
    for (Target t : Targets.all()) {
      String colour = colour(t.kind());
      if (uncontended.containsKey(t.id())) {
        u.add(t.backend(), t.label(), uncontended.get(t.id()).perSecond(), colour);
      }
      if (contended.containsKey(t.id())) {
        c.add(t.backend(), t.label(), contended.get(t.id()).perSecond(), colour);
      }
      HandOffResult r = handOff.get(t.id());
      if (r != null && r.error() == null) {
        h.add(t.backend(), t.label(), r.p50(), colour);
      }
    }
    StringBuilder s = new StringBuilder();
    Path base = out.toAbsolutePath().getParent();
    for (var chart :
        List.of(Map.entry("uncontended", u), Map.entry("contended", c), Map.entry("handoff", h))) {
      Path file = dir.resolve("chart-" + chart.getKey() + ".svg");
      Files.writeString(file, chart.getValue().svg());
      String link = base.relativize(file.toAbsolutePath()).toString().replace('\\', '/');
      s.append("![").append(chart.getKey()).append("](").append(link).append(")\n\n");
    }
    s.append(
        "Colours: fenced dark blue, peers orange, limits (raw round trips) grey, no-lock"
            + " baselines green.\n");
    return s.toString();
  }

  private static String colour(Kind kind) {
    return switch (kind) {
      case FENCED -> "#1f4e9c";
      case PEER -> "#e07b20";
      case LIMIT -> "#9a9a9a";
      case NO_LOCK -> "#3c9a3c";
    };
  }

  /** Figures with about three significant digits, no exponent. */
  static String number(double v) {
    if (Double.isNaN(v)) {
      return "–";
    }
    double a = Math.abs(v);
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return new java.math.BigDecimal(v)
        .round(new java.math.MathContext(3))
        .stripTrailingZeros()
        .toPlainString();
  }
}
