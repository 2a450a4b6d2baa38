package dev.fenced.loadtest.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.fenced.loadtest.JsonLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One row of the reads table: one request through the ingress, measured by wrk — {@code GET
 * /api/polls/{id}/results} for a poll of a given size, and beside it what bounds it: nginx alone
 * and the cached {@code GET /api/polls/{id}}.
 *
 * <pre>
 * ReadRow --label TEXT [--request TEXT] [--ballots N [--expect-ballots N]] --wrk FILE --row FILE
 * </pre>
 *
 * @param label the row's name in the table (e.g. {@code results, empty poll})
 * @param request what was requested (e.g. {@code GET /api/polls/{id}/results}); null in rows
 *     written before it was recorded
 * @param ballots the poll's ballots, as the results answered them before the measurement; -1 when
 *     the request reads no ballots
 * @param wrk what wrk measured
 * @param verdict PASS when every request succeeded and the poll answered the ballots it was given,
 *     FAIL otherwise
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReadRow(String label, String request, long ballots, WrkResult wrk, String verdict) {

  /** The row's label in the reads table of nginx answering alone, the ceiling of the others. */
  public static final String NGINX = "nginx alone";

  public static ReadRow of(String label, String request, long ballots, WrkResult wrk) {
    return of(label, request, ballots, -1, wrk);
  }

  /**
   * A row whose poll was given {@code expected} ballots (-1: not checked): a poll that answers
   * another number measured something else than its label says, so the row fails.
   */
  public static ReadRow of(
      String label, String request, long ballots, long expected, WrkResult wrk) {
    String verdict;
    if (wrk.errors() != 0 || wrk.requests() == 0) {
      verdict = "FAIL";
    } else if (expected >= 0 && ballots != expected) {
      verdict = "FAIL: " + ballots + " ballots answered, " + expected + " given";
    } else {
      verdict = "PASS";
    }
    return new ReadRow(label, request, ballots, wrk, verdict);
  }

  public static void main(String[] args) throws IOException {
    String label = null;
    String request = null;
    String ballots = "-1";
    String expected = "-1";
    Path wrk = null;
    Path row = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--label" -> label = args[i + 1];
        case "--request" -> request = args[i + 1];
        case "--ballots" -> ballots = args[i + 1];
        case "--expect-ballots" -> expected = args[i + 1];
        case "--wrk" -> wrk = Path.of(args[i + 1]);
        case "--row" -> row = Path.of(args[i + 1]);
        default -> usage("unknown option " + args[i]);
      }
    }
    if (label == null || wrk == null || row == null || args.length % 2 != 0) {
      usage("--label, --wrk and --row are required");
    }
    long n = wholeNumber("--ballots", ballots);
    long given = wholeNumber("--expect-ballots", expected);
    ReadRow r;
    try {
      r = of(label, request, n, given, WrkResult.parse(Files.readString(wrk)));
    } catch (IllegalArgumentException e) {
      usage(wrk + ": " + e.getMessage());
      return;
    }
    JsonLines.append(row, r);
  }

  private static long wholeNumber(String option, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      usage(option + " must be a whole number (-1: none), was '" + value + "'");
      return -1;
    }
  }

  private static void usage(String message) {
    System.err.println("read-row: " + message);
    System.exit(2);
  }

  /** Every row of a JSON-lines file; none when the file does not exist. */
  public static List<ReadRow> readAll(Path file) throws IOException {
    return JsonLines.read(file, ReadRow.class);
  }
}
