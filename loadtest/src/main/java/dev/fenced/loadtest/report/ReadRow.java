package dev.fenced.loadtest.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.fenced.loadtest.JsonLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One row of the reads table: {@code GET /api/polls/{id}/results} through the ingress, measured by
 * wrk, for a poll of a given size.
 *
 * <pre>ReadRow --label TEXT --ballots N --wrk FILE --row FILE</pre>
 *
 * @param label which poll (e.g. {@code empty poll})
 * @param ballots the poll's ballots, as the results answered them before the measurement
 * @param wrk what wrk measured
 * @param verdict PASS when every request succeeded, FAIL otherwise
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReadRow(String label, long ballots, WrkResult wrk, String verdict) {

  public static ReadRow of(String label, long ballots, WrkResult wrk) {
    return new ReadRow(
        label, ballots, wrk, wrk.errors() == 0 && wrk.requests() > 0 ? "PASS" : "FAIL");
  }

  public static void main(String[] args) throws IOException {
    String label = null;
    String ballots = null;
    Path wrk = null;
    Path row = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--label" -> label = args[i + 1];
        case "--ballots" -> ballots = args[i + 1];
        case "--wrk" -> wrk = Path.of(args[i + 1]);
        case "--row" -> row = Path.of(args[i + 1]);
        default -> usage("unknown option " + args[i]);
      }
    }
    if (label == null || ballots == null || wrk == null || row == null || args.length % 2 != 0) {
      usage("--label, --ballots, --wrk and --row are required");
    }
    long n;
    try {
      n = Long.parseLong(ballots);
    } catch (NumberFormatException e) {
      usage("--ballots must be a whole number, was '" + ballots + "'");
      return;
    }
    ReadRow r;
    try {
      r = of(label, n, WrkResult.parse(Files.readString(wrk)));
    } catch (IllegalArgumentException e) {
      usage(wrk + ": " + e.getMessage());
      return;
    }
    JsonLines.append(row, r);
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
