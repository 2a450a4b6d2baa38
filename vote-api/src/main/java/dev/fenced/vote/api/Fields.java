package dev.fenced.vote.api;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The rules for identifiers and texts in requests; each failure names the field. */
public final class Fields {

  /** Longest poll id, option or voter; keeps {@code vote:{poll}:{option}} a valid lock name. */
  public static final int MAX_ID = 128;

  public static final int MAX_TITLE = 512;
  public static final int MAX_OPTIONS = 64;

  private Fields() {}

  /**
   * A required identifier: not blank, at most {@value #MAX_ID} characters, no control characters.
   */
  public static String id(String field, String value) {
    if (value == null) {
      throw ProblemException.badRequest(field, field + " is required");
    }
    if (value.isBlank()) {
      throw ProblemException.badRequest(field, field + " must not be blank");
    }
    if (value.length() > MAX_ID) {
      throw ProblemException.badRequest(
          field, field + " must be at most " + MAX_ID + " characters, was " + value.length());
    }
    noControlCharacters(field, value);
    return value;
  }

  public static String title(String field, String value) {
    if (value == null || value.isBlank()) {
      throw ProblemException.badRequest(field, field + " must not be blank");
    }
    if (value.length() > MAX_TITLE) {
      throw ProblemException.badRequest(
          field, field + " must be at most " + MAX_TITLE + " characters, was " + value.length());
    }
    noControlCharacters(field, value);
    return value;
  }

  /** One to {@value #MAX_OPTIONS} distinct options, each a valid {@link #id}. */
  public static List<String> options(String field, List<String> options) {
    if (options == null || options.isEmpty()) {
      throw ProblemException.badRequest(field, field + " must name at least one option");
    }
    if (options.size() > MAX_OPTIONS) {
      throw ProblemException.badRequest(
          field, field + " must have at most " + MAX_OPTIONS + " options, had " + options.size());
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < options.size(); i++) {
      String option = id(field + "[" + i + "]", options.get(i));
      if (!seen.add(option)) {
        throw ProblemException.badRequest(
            field + "[" + i + "]", field + " must not repeat an option, '" + option + "' does");
      }
    }
    return List.copyOf(options);
  }

  private static void noControlCharacters(String field, String value) {
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw ProblemException.badRequest(
            field, field + " must not contain control characters (one at index " + i + ")");
      }
    }
  }
}
