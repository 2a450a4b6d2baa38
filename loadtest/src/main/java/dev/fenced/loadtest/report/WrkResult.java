package dev.fenced.loadtest.report;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code wrk --latency} printed for one run: throughput, the latency percentiles and the
 * answers that were not a success.
 *
 * @param requests requests completed
 * @param seconds how long the run lasted
 * @param requestsPerSecond completed requests per second
 * @param p50Millis median latency
 * @param p99Millis 99th percentile latency
 * @param errors answers that were not 2xx/3xx plus socket errors (connect, read, write, timeout)
 */
public record WrkResult(
    long requests,
    double seconds,
    double requestsPerSecond,
    double p50Millis,
    double p99Millis,
    long errors) {

  private static final Pattern SUMMARY =
      Pattern.compile("(\\d+) requests in ([\\d.]+)(us|ms|s|m|h)");
  private static final Pattern RATE = Pattern.compile("Requests/sec:\\s*([\\d.]+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s*(\\d+)");
  private static final Pattern SOCKET =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

  /** Parses wrk's output; fails naming what is missing when it is not a {@code --latency} run. */
  public static WrkResult parse(String output) {
    Matcher summary = SUMMARY.matcher(output);
    Matcher rate = RATE.matcher(output);
    if (!summary.find() || !rate.find()) {
      throw new IllegalArgumentException(
          "not the output of a finished wrk run: no 'N requests in T' and 'Requests/sec' lines");
    }
    long errors = 0;
    Matcher non2xx = NON_2XX.matcher(output);
    if (non2xx.find()) {
      errors += Long.parseLong(non2xx.group(1));
    }
    Matcher socket = SOCKET.matcher(output);
    long timeouts = 0;
    if (socket.find()) {
      for (int g = 1; g <= 4; g++) {
        errors += Long.parseLong(socket.group(g));
      }
      timeouts = Long.parseLong(socket.group(4));
    }
    long requests = Long.parseLong(summary.group(1));
    // wrk leaves timed-out requests out of its latencies: when every request timed out, its
    // percentiles (printed as 0) measure nothing.
    boolean measured = timeouts < requests;
    return new WrkResult(
        requests,
        millis(summary.group(2), summary.group(3)) / 1000,
        Double.parseDouble(rate.group(1)),
        measured ? percentile(output, "50") : Double.NaN,
        measured ? percentile(output, "99") : Double.NaN,
        errors);
  }

  private static double percentile(String output, String which) {
    Matcher m =
        Pattern.compile("(?m)^\\s*" + which + "(?:\\.000)?%\\s+([\\d.]+)(us|ms|s|m)\\s*$")
            .matcher(output);
    if (!m.find()) {
      throw new IllegalArgumentException(
          "no " + which + "% line in wrk's output: run wrk with --latency");
    }
    return millis(m.group(1), m.group(2));
  }

  private static double millis(String value, String unit) {
    double v = Double.parseDouble(value);
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "us" -> v / 1000;
      case "ms" -> v;
      case "s" -> v * 1000;
      case "m" -> v * 60_000;
      case "h" -> v * 3_600_000;
      default -> throw new IllegalArgumentException("unknown time unit " + unit);
    };
  }
}
