package dev.fenced.vote.api;

import java.time.Duration;

/**
 * A request that ends in an error answer with a {@link Problem} body. {@code retryAfter} is set for
 * 503 answers: nothing was recorded, and the client may try again after that long.
 */
public final class ProblemException extends RuntimeException {

  private final Problem problem;
  private final Duration retryAfter;

  public ProblemException(Problem problem, Duration retryAfter, Throwable cause) {
    super(problem.title() + ": " + problem.detail(), cause, false, false);
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  public static ProblemException badRequest(String field, String detail) {
    return new ProblemException(new Problem(400, "Invalid request", detail, field), null, null);
  }

  public static ProblemException notFound(String field, String detail) {
    return new ProblemException(new Problem(404, "Not found", detail, field), null, null);
  }

  public static ProblemException conflict(String field, String detail) {
    return new ProblemException(new Problem(409, "Conflict", detail, field), null, null);
  }

  public static ProblemException unavailable(String detail, Duration retryAfter, Throwable cause) {
    return new ProblemException(
        new Problem(503, "Try again later", detail, null), retryAfter, cause);
  }

  public Problem problem() {
    return problem;
  }

  /** How long the client should wait before retrying; null when a retry would not help. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
