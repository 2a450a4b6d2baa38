package dev.fenced.lock.policy;

import java.util.Objects;

/**
 * One thing wrong with a LockPolicy.
 *
 * @param field the path of the offending field, such as {@code spec.backend.redis.url}
 * @param message what is wrong and, where it helps, what to write instead; never a secret's value
 */
public record Violation(String field, String message) {

  public Violation {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return field + ": " + message;
  }
}
