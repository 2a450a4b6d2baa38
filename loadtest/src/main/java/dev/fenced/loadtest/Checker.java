package dev.fenced.loadtest;

import dev.fenced.loadtest.VoteSummary.Ballot;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the §5 invariant after a load run: reads the run's summary, waits (bounded) until
 * tally-worker has folded every ballot, then compares 201 answers, ballots, counts, tally and
 * tallied, and prints PASS or FAIL with the numbers.
 *
 * <pre>
 * Checker --summary FILE [--base-url URL] [--policy NAME] [--wait-seconds 90]
 *         [--resolve-ambiguous] [--gatling-results DIR] [--row FILE]
 * </pre>
 *
 * <ul>
 *   <li>{@code --policy None}: the run had no lock, so lost votes are the expected demonstration;
 *       the exit code is 0 whatever the verdict.
 *   <li>{@code --resolve-ambiguous}: votes that got no definite answer (a replica killed mid
 *       request) are sent again for the same voter; 409 proves the first one was recorded, 201
 *       records it now. Either way it is then acknowledged, and the invariant can be exact.
 *   <li>{@code --row FILE}: appends one tab-separated line (policy, votes/s, p50, p99,
 *       acknowledged, counted, lost, verdict) for a comparison table.
 * </ul>
 *
 * Exit codes: 0 pass (or policy None), 1 invariant broken, 2 usage or I/O problem.
 */
public final class Checker {

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

  static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      String key = arg.substring(2);
      if (key.equals("resolve-ambiguous")) {
        opts.put(key, "true");
      } else if (i + 1 < args.length) {
        opts.put(key, args[++i]);
      } else {
        throw new IllegalArgumentException(arg + " needs a value");
      }
    }
    if (!opts.containsKey("summary")) {
      throw new IllegalArgumentException("--summary FILE is required");
    }
    return opts;
  }

  static int run(Map<String, String> opts) throws IOException, InterruptedException {
    VoteSummary summary = VoteSummary.read(Path.of(opts.get("summary")));
    String policy = opts.getOrDefault("policy", "?");
    boolean noLock = policy.equalsIgnoreCase("None");
    Duration wait = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("wait-seconds", "90")));
    Checker checker = new Checker(opts.getOrDefault("base-url", summary.baseUrl()));

    long acknowledged = summary.acknowledged();
    long unresolved = summary.ambiguous().size();
    if (opts.containsKey("resolve-ambiguous") && unresolved > 0) {
      long resolved = checker.resolve(summary);
      acknowledged += resolved;
      unresolved -= resolved;
    }
    PollResults results = checker.awaitTally(summary.poll(), wait);
    Verdict verdict = Verdict.judge(acknowledged, unresolved, summary.revotes().created(), results);

    double seconds = summary.durationMillis() / 1000.0;
    double rate = seconds > 0 ? summary.votes().created() / seconds : 0;
    Optional<GatlingStats> stats =
        opts.containsKey("gatling-results")
            ? GatlingStats.newest(Path.of(opts.get("gatling-results")), "vote")
            : Optional.empty();
    String label = label(verdict, noLock);
    System.out.printf(
        Locale.ROOT,
        "%s %s poll %s: %s | first votes: %d x201 %d x409 %d x503 %d other;"
            + " second votes: %d x409 %d x201 | %.0f votes/s%s%n",
        label,
        policy,
        summary.poll(),
        verdict.numbers(),
        summary.votes().created(),
        summary.votes().conflict(),
        summary.votes().unavailable(),
        summary.votes().other(),
        summary.revotes().conflict(),
        summary.revotes().created(),
        rate,
        stats.map(s -> ", p50 " + s.p50() + " ms, p99 " + s.p99() + " ms").orElse(""));
    for (String problem : verdict.problems()) {
      System.out.println("  - " + problem);
    }
    if (noLock) {
      System.out.println(
          verdict.lost() > 0
              ? "  (policy None: " + verdict.lost() + " votes lost to the race, as expected)"
              : "  (policy None: no vote lost this time; more concurrency shows the race)");
    }
    if (opts.containsKey("row")) {
      String row =
          String.join(
                  "\t",
                  policy,
                  String.format(Locale.ROOT, "%.0f", rate),
                  stats.map(s -> Long.toString(s.p50())).orElse("-"),
                  stats.map(s -> Long.toString(s.p99())).orElse("-"),
                  Long.toString(verdict.acknowledged()),
                  Long.toString(verdict.counted()),
                  Long.toString(verdict.lost()),
                  label)
              + "\n";
      Files.writeString(
          Path.of(opts.get("row")),
          row,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
    return verdict.pass() || noLock ? 0 : 1;
  }

  static String label(Verdict verdict, boolean noLock) {
    if (verdict.pass()) {
      return "PASS";
    }
    return noLock ? "FAIL(expected)" : "FAIL";
  }

  /** Sends each ambiguous vote again; returns how many turned out recorded (now or before). */
  long resolve(VoteSummary summary) throws IOException, InterruptedException {
    long before = 0;
    long now = 0;
    for (Ballot ballot : summary.ambiguous()) {
      String body = "{\"voter\":\"" + ballot.voter() + "\",\"option\":\"" + ballot.option() + "\"}";
      for (int attempt = 0; attempt < 20; attempt++) {
        int status = post("/api/polls/" + summary.poll() + "/votes", body);
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
        summary.ambiguous().size(), before, now, summary.ambiguous().size() - resolved);
    return resolved;
  }

  /** Reads the results until tallied catches up with ballots or the wait ends; the last answer. */
  PollResults awaitTally(String poll, Duration wait) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    PollResults last = null;
    IOException lastError = null;
    long lastPrint = 0;
    while (true) {
      try {
        last = PollResults.parse(get("/api/polls/" + poll + "/results"));
        if (last.caughtUp()) {
          return last;
        }
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
      if (last != null && System.nanoTime() - lastPrint > 5_000_000_000L) {
        System.out.printf(
            "[check] waiting for the tally: %d of %d ballots folded%n",
            last.tallied(), last.ballots());
        lastPrint = System.nanoTime();
      }
      Thread.sleep(500);
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
