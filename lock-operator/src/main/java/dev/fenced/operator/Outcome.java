package dev.fenced.operator;

import java.time.Duration;

/**
 * What a {@link ReconcileStep} says about the rest of the pass: go on, or stop here and look again
 * after {@code retry} (null: only a change of the policy brings it back).
 */
record Outcome(boolean stop, Duration retry) {

  static final Outcome NEXT = new Outcome(false, null);

  static Outcome stop(Duration retry) {
    return new Outcome(true, retry);
  }
}
