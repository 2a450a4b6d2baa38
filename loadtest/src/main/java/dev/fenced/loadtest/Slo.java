package dev.fenced.loadtest;

import dev.fenced.loadtest.VoteSummary.Answers;
import java.util.Locale;
import java.util.Optional;

/**
 * The service-level objective a capacity level is judged by: every vote answered, the 99th
 * percentile of the answers at most {@code p99Millis}, no status other than 201 and the documented
 * 503 (lock not had in time, nothing recorded), and 503s at most {@code maxRefusedShare} of the
 * votes sent, so that refusing work quickly cannot pass for serving it.
 *
 * @param p99Millis the latency limit of the 99th percentile
 * @param maxRefusedShare the largest share of 503 answers a passing level may have
 */
public record Slo(long p99Millis, double maxRefusedShare) {

  public static final Slo DEFAULT = new Slo(100, 0.01);

  public Slo {
    if (p99Millis <= 0) {
      throw new IllegalArgumentException("sloP99Millis must be positive, was " + p99Millis);
    }
    if (maxRefusedShare < 0 || maxRefusedShare > 1) {
      throw new IllegalArgumentException(
          "sloMaxRefusedShare must be between 0 and 1, was " + maxRefusedShare);
    }
  }

  /**
   * Why a level missed the objective, or empty when it met it.
   *
   * @param sent votes sent during the level
   * @param answers their answers by status
   * @param latency the answers' response times
   */
  public Optional<String> miss(long sent, Answers answers, Latencies.Percentiles latency) {
    if (sent == 0) {
      return Optional.of("no vote was sent");
    }
    if (answers.other() > 0) {
      return Optional.of(answers.other() + " answer(s) neither 201 nor 503 (errors or no answer)");
    }
    if (answers.conflict() > 0) {
      return Optional.of(answers.conflict() + " fresh voter(s) answered 409");
    }
    if (answers.total() < sent) {
      return Optional.of((sent - answers.total()) + " vote(s) without an answer");
    }
    if (answers.unavailable() > maxRefusedShare * sent) {
      return Optional.of(
          String.format(
              Locale.ROOT,
              "%d of %d refused with 503 (more than %.1f %%)",
              answers.unavailable(),
              sent,
              maxRefusedShare * 100));
    }
    if (latency.p99() > p99Millis) {
      return Optional.of("p99 " + latency.p99() + " ms > " + p99Millis + " ms");
    }
    return Optional.empty();
  }
}
