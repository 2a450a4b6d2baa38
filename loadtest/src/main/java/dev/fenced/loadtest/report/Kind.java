package dev.fenced.loadtest.report;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/** The measurements {@code scripts/compare.sh} makes, each a table of its own. */
public enum Kind {
  /** Every lock policy side by side: closed loop, capacity at SLO, votes per hold, invariant. */
  POLICIES("policies"),
  /** One policy with 1, 2, 3, 4 vote-api replicas. */
  SCALING("scaling"),
  /** The same load with idle polls in the database. */
  IDLE_POLLS("idle-polls"),
  /** Reading the results of an empty poll and of a large one, with wrk. */
  READS("reads");

  private final String id;

  Kind(String id) {
    this.id = id;
  }

  /** The name used in file names, on the command line and in the docs' markers. */
  @JsonValue
  public String id() {
    return id;
  }

  @JsonCreator
  public static Kind of(String id) {
    return Arrays.stream(values())
        .filter(k -> k.id.equals(id))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown measurement '"
                        + id
                        + "' (expected one of policies, scaling, idle-polls, reads)"));
  }
}
