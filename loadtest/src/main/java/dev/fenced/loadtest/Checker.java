package dev.fenced.loadtest;

import dev.fenced.loadtest.VoteSummary.Ballot;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks the §5 invariant after a load run: reads the run's summary, waits (bounded) until
 * tally-worker has folded every ballot, then compares 201 answers, ballots, counts, tally and
 * tallied, checks the 201 answers' counts and fences against each other, demands that enough voters
 * were acknowledged, and prints PASS or FAIL with the numbers.
 *
 * <pre>
 * Checker --summary FILE [--base-url URL] [--policy NAME] [--label TEXT] [--wait-seconds 90]
 *         [--min-acknowledged 0.9] [--resolve-ambiguous] [--row FILE] [--tag KEY=VALUE ...]
 * </pre>
 *
 * <ul>
 *   <li>{@code --policy None}: the run had no lock, so lost updates (counts short of ballots,
 *       repeated counts) are the expected demonstration: the verdict is {@code FAIL(expected)} and
 *       the exit code 0, as long as nothing else is wrong.
 *   <li>{@code --min-acknowledged}: the least share of the closed loop's voters whose vote must
 *       have been acknowledged (default 0.9); a run that refused its votes fails.
 *   <li>{@code --resolve-ambiguous}: votes that got no definite answer (a replica killed mid
 *       request) are sent again for the same voter; 409 proves the first one was recorded, 201
 *       records it now. Either way it is then acknowledged, and the invariant can be exact.
 *   <li>{@code --row FILE}: appends the run as one JSON line ({@link Row}) for a comparison table;
 *       {@code --label} names the row (default: the policy), {@code --tag} adds what sets the run
 *       apart.
 * </ul>
 *
 * Exit codes: 0 pass (or the expected failure of policy None), 1 invariant broken, 2 usage or I/O
 * problem.
 */
public final class Checker {

  private static final Set<String> VALUED =
      Set.of(
          "summary",
          "base-url",
          "policy",
          "label",
          "wait-seconds",
          "min-acknowledged",
          "row",
          "tag");
  private static final Set<String> FLAGS = Set.of("resolve-ambiguous");

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;

  Checker(String baseUrl) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  public static void main(String[] args) {
    try {
      System.exit(run(parse(args)));
    } catch (IllegalArgumentException e) {
      System.err.println("checker: " + e.getMessage());
      System.exit(2);
    } catch (IOException e) {
      System.err.println("checker: " + e);
      System.exit(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(2);
    }
  }

  /** Options by name (without the dashes); {@code tag} may repeat, every other option may not. */
  static Map<String, List<String>> parse(String[] args) {
    Map<String, List<String>> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      String key = arg.substring(2);
      String value;
      if (FLAGS.contains(key)) {
        value = "true";
      } else if (!VALUED.contains(key)) {
        throw new IllegalArgumentException("unknown option " + arg);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException(arg + " needs a value");
      }
      List<String> values = opts.computeIfAbsent(key, k -> new ArrayList<>());
      if (!values.isEmpty() && !key.equals("tag")) {
        throw new IllegalArgumentException(arg + " given twice");
      }
      values.add(value);
    }
    if (!opts.containsKey("summary")) {
      throw new IllegalArgumentException("--summary FILE is required");
    }
    return opts;
  }

  private static String one(Map<String, List<String>> opts, String key, String fallback) {
    List<String> values = opts.get(key);
    return values == null ? fallback : values.get(0);
  }

  private static double share(Map<String, List<String>> opts) {
    String value = one(opts, "min-acknowledged", Double.toString(Verdict.DEFAULT_MIN_ACKNOWLEDGED));
    try {
      double share = Double.parseDouble(value);
      if (share < 0 || share > 1) {
        throw new NumberFormatException();
      }
      return share;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--min-acknowledged must be a share between 0 and 1, was " + value);
    }
  }

  private static Map<String, String> tags(Map<String, List<String>> opts) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (String tag : opts.getOrDefault("tag", List.of())) {
      int eq = tag.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--tag must be KEY=VALUE, was '" + tag + "'");
      }
      tags.put(tag.substring(0, eq), tag.substring(eq + 1));
    }
    return tags;
  }

  static int run(Map<String, List<String>> opts) throws IOException, InterruptedException {
    double minShare = share(opts);
    Map<String, String> tags = tags(opts);
    long waitSeconds;
    try {
      waitSeconds = Long.parseLong(one(opts, "wait-seconds", "90"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--wait-seconds must be a whole number, was " + one(opts, "wait-seconds", ""));
    }
    VoteSummary summary = VoteSummary.read(Path.of(one(opts, "summary", null)));
    String policy = one(opts, "policy", "?");
    String label = one(opts, "label", policy);
    boolean noLock = policy.equalsIgnoreCase("None");
    Checker checker = new Checker(one(opts, "base-url", summary.baseUrl()));

    long firstAcknowledged = summary.votes().created();
    long acknowledged = summary.acknowledged();
    List<Ballot> ambiguous = new ArrayList<>(summary.ambiguous());
    long unresolved = ambiguous.size();
    List<Ballot> capacityAmbiguous =
        summary.capacity() == null ? List.of() : summary.capacity().ambiguous();
    unresolved += capacityAmbiguous.size();
    if (opts.containsKey("resolve-ambiguous") && unresolved > 0) {
      long resolvedFirst = checker.resolve(summary.poll(), ambiguous);
      long resolvedCapacity = checker.resolve(summary.poll(), capacityAmbiguous);
      firstAcknowledged += resolvedFirst;
      acknowledged += resolvedFirst + resolvedCapacity;
      unresolved -= resolvedFirst + resolvedCapacity;
    }
    PollResults results = checker.awaitTally(summary.poll(), Duration.ofSeconds(waitSeconds));
    Verdict verdict =
        Verdict.judge(
            new Verdict.Run(
                summary.voters(),
                firstAcknowledged,
                summary.refused(),
                acknowledged,
                unresolved,
                summary.revotes().created(),
                AckCheck.of(summary.acks())),
            results,
            minShare);

    double seconds = summary.durationMillis() / 1000.0;
    double rate = seconds > 0 ? summary.votes().created() / seconds : 0;
    String outcome = label(verdict, noLock);
    System.out.printf(
        Locale.ROOT,
        "%s %s poll %s: %s | first votes: %d x201 %d x409 %d x503 %d other;"
            + " second votes: %d x409 %d x201 | %.0f votes/s, p50 %s ms, p99 %s ms%s%n",
        outcome,
        label,
        summary.poll(),
        verdict.numbers(),
        summary.votes().created(),
        summary.votes().conflict(),
        summary.votes().unavailable(),
        summary.votes().other(),
        summary.revotes().conflict(),
        summary.revotes().created(),
        rate,
        summary.latency().p50(),
        summary.latency().p99(),
        capacityText(summary.capacity()));
    for (String problem : verdict.allProblems()) {
      System.out.println("  - " + problem);
    }
    if (!summary.otherStatuses().isEmpty()) {
      System.out.println("  other answers by status: " + new TreeMap<>(summary.otherStatuses()));
    }
    if (noLock) {
      System.out.println(
          verdict.lostUpdates().isEmpty()
              ? "  (policy None: no vote lost this time, so the race was not shown; more"
                  + " concurrency shows it)"
              : "  (policy None: " + verdict.lost() + " votes lost to the race, as expected)");
    }
    if (opts.containsKey("row")) {
      new Row(
              label,
              policy,
              tags,
              outcome,
              verdict.allProblems(),
              verdict.voters(),
              verdict.acknowledged(),
              verdict.refused(),
              verdict.ballots(),
              verdict.counted(),
              verdict.lost(),
              verdict.tallied(),
              rate,
              summary.latency().p50(),
              summary.latency().p99(),
              summary.tallyLagMillis(),
              summary.lockStats(),
              summary.capacity())
          .append(Path.of(one(opts, "row", null)));
    }
    return outcome.equals("PASS") || outcome.equals(Row.EXPECTED_FAILURE) ? 0 : 1;
  }

  /**
   * PASS when the invariant holds; for the run without a lock, {@code FAIL(expected)} when only
   * updates were lost (the race shown) and PASS when none was; FAIL otherwise.
   */
  static String label(Verdict verdict, boolean noLock) {
    if (verdict.pass()) {
      return "PASS";
    }
    return noLock && verdict.problems().isEmpty() ? Row.EXPECTED_FAILURE : "FAIL";
  }

  private static String capacityText(VoteSummary.Capacity capacity) {
    if (capacity == null) {
      return "";
    }
    StringBuilder s = new StringBuilder(" | capacity at SLO: ");
    var at = capacity.atSlo();
    if (at.isEmpty()) {
      s.append("below ").append(fmt(capacity.levels().get(0).rate())).append(" votes/s");
    } else {
      s.append(capacity.ceilingReached() ? "at least " : "").append(fmt(at.getAsDouble()));
      s.append(" votes/s");
    }
    for (VoteSummary.Level level : capacity.levels()) {
      if (level.miss() != null) {
        s.append(" (").append(fmt(level.rate())).append("/s: ").append(level.miss()).append(')');
      }
    }
    return s.toString();
  }

  private static String fmt(double rate) {
    return String.format(Locale.ROOT, "%.0f", rate);
  }

  /** Sends each ambiguous vote again; returns how many turned out recorded (now or before). */
  long resolve(String poll, List<Ballot> ambiguous) throws IOException, InterruptedException {
    if (ambiguous.isEmpty()) {
      return 0;
    }
    long before = 0;
    long now = 0;
    for (Ballot ballot : ambiguous) {
      String body = "{\"voter\":\"" + ballot.voter() + "\",\"option\":\"" + ballot.option() + "\"}";
      for (int attempt = 0; attempt < 20; attempt++) {
        int status = post("/api/polls/" + poll + "/votes", body);
        if (status == 409) {
          before++;
          break;
        }
        if (status == 201) {
          now++;
          break;
        }
        Thread.sleep(250);
      }
    }
    long resolved = before + now;
    System.out.printf(
        "[check] %d ambiguous vote(s) sent again: %d had been recorded (409), %d recorded now"
            + " (201), %d still unknown%n",
        ambiguous.size(), before, now, ambiguous.size() - resolved);
    return resolved;
  }

  /**
   * Reads the results until tallied has caught up with ballots and a second read answers the same,
   * or the wait ends; the last answer. The second read is there because the results may be read in
   * several statements: one answer can hold the tally from before a fold and the watermark from
   * after it, which a second read no longer shows, while a true mismatch stays.
   */
  PollResults awaitTally(String poll, Duration wait) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    PollResults last = null;
    PollResults caughtUp = null;
    IOException lastError = null;
    long lastPrint = 0;
    while (true) {
      try {
        last = PollResults.parse(get("/api/polls/" + poll + "/results"));
        if (last.caughtUp() && last.equals(caughtUp)) {
          return last;
        }
        caughtUp = last.caughtUp() ? last : null;
        lastError = null;
      } catch (IOException e) {
        lastError = e;
      }
      if (System.nanoTime() > deadline) {
        if (last == null) {
          throw lastError != null ? lastError : new IOException("no results for poll " + poll);
        }
        System.out.printf(
            "[check] tally did not catch up within %ds: tallied %d of %d ballots%n",
            wait.toSeconds(), last.tallied(), last.ballots());
        return last;
      }
      if (last != null && !last.caughtUp() && System.nanoTime() - lastPrint > 5_000_000_000L) {
        System.out.printf(
            "[check] waiting for the tally: %d of %d ballots folded%n",
            last.tallied(), last.ballots());
        lastPrint = System.nanoTime();
      }
      Thread.sleep(caughtUp != null ? 200 : 500);
    }
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(10))
                .header("Accept", "application/json")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(
          "GET " + path + " answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  private int post(String path, String json) throws InterruptedException {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(baseUrl + path))
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    }
  }
}
