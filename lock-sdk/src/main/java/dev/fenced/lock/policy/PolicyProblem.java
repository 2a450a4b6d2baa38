package dev.fenced.lock.policy;

import java.util.Objects;

/**
 * Why a policy source could not accept (part of) a file or resource.
 *
 * @param source the file (or resource) it concerns
 * @param line the 1-based line the parser pointed at, or null when there is none
 * @param field the field path, such as {@code spec.backend.redis.url}, or null for the whole
 *     document (a YAML syntax error, say)
 * @param message what is wrong; never a secret's value
 */
public record PolicyProblem(String source, Integer line, String field, String message) {

  public PolicyProblem {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return source
        + (line == null ? "" : ":" + line)
        + ": "
        + (field == null ? "" : field + ": ")
        + message;
  }
}
