package dev.fenced.operator;

import dev.fenced.lock.policy.PolicyConditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The next set of conditions, built from the previous one: a condition keeps its {@code
 * lastTransitionTime} unless its status flips, and every condition carries the generation it
 * describes. Conditions come out in a fixed order (Ready, BackendReachable, Provisioned,
 * Conflicting), so an unchanged status compares equal.
 */
final class ConditionSet {

  private static final List<String> ORDER =
      List.of(
          PolicyConditions.READY,
          PolicyConditions.BACKEND_REACHABLE,
          PolicyConditions.PROVISIONED,
          PolicyConditions.CONFLICTING);

  /** A condition that flipped (or appeared), for an Event. */
  record Transition(String type, String status, String reason, String message) {}

  private final Map<String, Condition> previous = new LinkedHashMap<>();
  private final Map<String, Condition> next = new LinkedHashMap<>();
  private final long generation;
  private final String now;

  ConditionSet(List<Condition> previous, long generation) {
    if (previous != null) {
      for (Condition c : previous) {
        if (c != null && c.getType() != null) {
          this.previous.put(c.getType(), c);
        }
      }
    }
    this.generation = generation;
    this.now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  ConditionSet set(String type, String status, String reason, String message) {
    Condition before = previous.get(type);
    String since =
        before != null
                && status.equals(before.getStatus())
                && before.getLastTransitionTime() != null
            ? before.getLastTransitionTime()
            : now;
    next.put(
        type,
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(since)
            .build());
    return this;
  }

  /** The condition of that type as it was before this pass, if any. */
  Condition before(String type) {
    return previous.get(type);
  }

  /** The conditions to write, in the fixed order, then any other type the status carried. */
  List<Condition> conditions() {
    List<Condition> out = new ArrayList<>();
    for (String type : ORDER) {
      if (next.containsKey(type)) {
        out.add(next.get(type));
      }
    }
    return out;
  }

  /** Conditions whose status differs from before (new ones included). */
  List<Transition> transitions() {
    List<Transition> out = new ArrayList<>();
    for (Condition c : conditions()) {
      Condition before = previous.get(c.getType());
      if (before == null || !Objects.equals(before.getStatus(), c.getStatus())) {
        out.add(new Transition(c.getType(), c.getStatus(), c.getReason(), c.getMessage()));
      }
    }
    return out;
  }
}
