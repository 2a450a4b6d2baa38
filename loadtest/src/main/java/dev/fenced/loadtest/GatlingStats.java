package dev.fenced.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Response-time percentiles of one request, read from Gatling's HTML report.
 *
 * <p>Gatling 3.15 writes its statistics only into the report pages (the {@code simulation.log} is
 * binary), so this reads the statistics table of the request's page, {@code req_<name>-*.html}.
 *
 * @param p50 50th percentile in milliseconds, all answers
 * @param p99 99th percentile in milliseconds, all answers
 */
public record GatlingStats(long p50, long p99) {

  /** Reads the percentiles of {@code request} from the newest run folder under {@code results}. */
  public static Optional<GatlingStats> newest(Path results, String request) throws IOException {
    if (!Files.isDirectory(results)) {
      return Optional.empty();
    }
    Optional<Path> run;
    try (Stream<Path> runs = Files.list(results)) {
      run = runs.filter(Files::isDirectory).max(Comparator.comparingLong(GatlingStats::modified));
    }
    return run.isEmpty() ? Optional.empty() : fromRun(run.get(), request);
  }

  /** Reads the percentiles of {@code request} from one Gatling run folder. */
  public static Optional<GatlingStats> fromRun(Path run, String request) throws IOException {
    Optional<Path> page;
    try (Stream<Path> files = Files.list(run)) {
      page =
          files
              .filter(
                  f ->
                      f.getFileName()
                          .toString()
                          .matches("req_" + Pattern.quote(request) + "-.*\\.html"))
              .findFirst();
    }
    if (page.isEmpty()) {
      return Optional.empty();
    }
    return parse(Files.readString(page.get()));
  }

  /** Parses the statistics table of a Gatling request page. */
  public static Optional<GatlingStats> parse(String html) {
    OptionalLong p50 = percentile(html, "50th");
    OptionalLong p99 = percentile(html, "99th");
    if (p50.isEmpty() || p99.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new GatlingStats(p50.getAsLong(), p99.getAsLong()));
  }

  private static OptionalLong percentile(String html, String which) {
    Matcher m =
        Pattern.compile(
                "<td class=\"title\">"
                    + which
                    + " percentile</td>\\s*<td class=\"total\">\\s*(\\d+)\\s*</td>")
            .matcher(html);
    return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
