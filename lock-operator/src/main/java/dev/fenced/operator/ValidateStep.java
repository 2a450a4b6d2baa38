package dev.fenced.operator;

import dev.fenced.lock.policy.LockPolicyValidator;
import dev.fenced.lock.policy.Violation;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The spec against lock-sdk's validator (the mock API server and some clusters enforce no schema).
 * Invalid: Ready False, reason InvalidSpec, every violation with its field path; no reschedule,
 * only a spec change can fix it. Valid: the backend identity for the steps after.
 */
final class ValidateStep implements ReconcileStep {

  @Override
  public Outcome run(Pass pass) {
    List<Violation> violations = LockPolicyValidator.validate(pass.policy);
    if (violations.isEmpty()) {
      pass.identity = BackendIdentity.of(pass.policy);
      return Outcome.NEXT;
    }
    String message = violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
    pass.notChecked(Reasons.INVALID_SPEC, message, Reasons.NOT_CHECKED, "the spec is invalid");
    pass.noConflict();
    return pass.done(null);
  }
}
