package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

import dev.fenced.lock.policy.PolicyConflict;
import java.util.stream.Collectors;

/**
 * Ties with other policies of the namespace: Conflicting True naming the other policy and the
 * patterns (and Ready False at the end of the pass), or Conflicting False once a tie has ended.
 */
final class ConflictsStep implements ReconcileStep {

  @Override
  public Outcome run(Pass pass) {
    pass.conflicts = Conflicts.of(pass.policy, pass.all);
    if (pass.conflicts.isEmpty()) {
      pass.noConflict();
      return Outcome.NEXT;
    }
    String others =
        pass.conflicts.stream()
            .map(x -> x.other(pass.ref).toString())
            .distinct()
            .collect(Collectors.joining(", "));
    pass.conditions.set(
        CONFLICTING,
        TRUE,
        Reasons.PATTERNS_TIE,
        "conflicts with "
            + others
            + ": "
            + pass.conflicts.stream()
                .map(PolicyConflict::message)
                .collect(Collectors.joining("; ")));
    return Outcome.NEXT;
  }
}
