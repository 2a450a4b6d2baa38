package dev.fenced.lock.policy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;

/**
 * Go-style durations, the format of {@code time.ParseDuration} that Kubernetes resources use:
 * {@code 10s}, {@code 500ms}, {@code 1m30s}, {@code 1.5h}, {@code 0}. Units are {@code ns}, {@code
 * us} (or {@code µs}), {@code ms}, {@code s}, {@code m} and {@code h}; there are no days. The range
 * is Go's, about ±292 years.
 */
public final class Durations {

  private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

  private Durations() {}

  /**
   * Parses a Go-style duration.
   *
   * @param field the field the text came from, named in the error (such as {@code
   *     spec.leaseDuration})
   * @throws IllegalArgumentException naming {@code field} and the text when it is not a duration
   */
  public static Duration parse(String field, String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(field + ": must be set, such as 10s, 500ms or 1m30s");
    }
    String s = text.strip();
    int i = 0;
    boolean negative = false;
    if (s.charAt(0) == '-' || s.charAt(0) == '+') {
      negative = s.charAt(0) == '-';
      i++;
    }
    if (s.substring(i).equals("0")) {
      return Duration.ZERO;
    }
    if (i == s.length()) {
      throw invalid(field, text, "a number and a unit are missing");
    }
    BigDecimal nanos = BigDecimal.ZERO;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      String number = s.substring(start, i);
      if (number.isEmpty()
          || number.equals(".")
          || number.indexOf('.') != number.lastIndexOf('.')) {
        throw invalid(field, text, "expected a number at position " + (start + 1));
      }
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      String unit = s.substring(unitStart, i);
      if (unit.isEmpty()) {
        throw invalid(field, text, "the unit after " + number + " is missing");
      }
      nanos =
          nanos.add(
              new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos(field, text, unit))));
    }
    BigInteger whole = nanos.toBigInteger();
    if (whole.compareTo(MAX_NANOS) > 0) {
      throw invalid(field, text, "it is longer than Go durations allow (about 292 years)");
    }
    long value = whole.longValueExact();
    return Duration.ofNanos(negative ? -value : value);
  }

  /**
   * Formats a duration as Go's {@code Duration.String()} does: {@code 1h2m3.5s}, {@code 500ms},
   * {@code 1.5µs}, {@code 0s}. {@link #parse} reads it back to the same value.
   */
  public static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    boolean negative = duration.isNegative();
    BigInteger nanos =
        BigInteger.valueOf(duration.getSeconds())
            .multiply(BigInteger.valueOf(1_000_000_000L))
            .add(BigInteger.valueOf(duration.getNano()))
            .abs();
    StringBuilder out = new StringBuilder(negative ? "-" : "");
    if (nanos.compareTo(BigInteger.valueOf(1_000_000_000L)) < 0) {
      long n = nanos.longValueExact();
      if (n < 1_000) {
        out.append(n).append("ns");
      } else if (n < 1_000_000) {
        out.append(decimal(n, 1_000)).append("µs");
      } else {
        out.append(decimal(n, 1_000_000)).append("ms");
      }
      return out.toString();
    }
    BigInteger[] hoursAndRest = nanos.divideAndRemainder(BigInteger.valueOf(3_600_000_000_000L));
    BigInteger[] minutesAndRest =
        hoursAndRest[1].divideAndRemainder(BigInteger.valueOf(60_000_000_000L));
    long restNanos = minutesAndRest[1].longValueExact();
    if (hoursAndRest[0].signum() > 0) {
      out.append(hoursAndRest[0]).append('h').append(minutesAndRest[0]).append('m');
    } else if (minutesAndRest[0].signum() > 0) {
      out.append(minutesAndRest[0]).append('m');
    }
    return out.append(decimal(restNanos, 1_000_000_000L)).append('s').toString();
  }

  private static String decimal(long value, long unit) {
    return BigDecimal.valueOf(value)
        .divide(BigDecimal.valueOf(unit))
        .stripTrailingZeros()
        .toPlainString();
  }

  private static long unitNanos(String field, String text, String unit) {
    return switch (unit) {
      case "ns" -> 1L;
      case "us", "µs", "μs" -> 1_000L;
      case "ms" -> 1_000_000L;
      case "s" -> 1_000_000_000L;
      case "m" -> 60_000_000_000L;
      case "h" -> 3_600_000_000_000L;
      default ->
          throw invalid(
              field, text, "unknown unit \"" + unit + "\" (use ns, us, ms, s, m or h; no days)");
    };
  }

  private static IllegalArgumentException invalid(String field, String text, String why) {
    return new IllegalArgumentException(
        field
            + ": \""
            + text
            + "\" is not a duration: "
            + why
            + "; write it like 10s, 500ms or 1m30s");
  }
}
