package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.FALSE;
import static dev.fenced.lock.policy.PolicyConditions.PROVISIONED;
import static dev.fenced.lock.policy.PolicyConditions.READY;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;
import static dev.fenced.lock.policy.PolicyConditions.UNKNOWN;

import dev.fenced.lock.LockAdmin;
import dev.fenced.lock.policy.KubernetesSecretResolver;
import dev.fenced.lock.policy.PolicyConflict;
import dev.fenced.lock.policy.PolicyRef;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import java.util.List;

/**
 * One reconcile of one LockPolicy: the policy as found, the status being built from the previous
 * one, and what each step found for the steps after it.
 */
final class Pass {

  final LockPolicy policy;
  final PolicyRef ref;
  final String uid;
  final LockPolicyStatus before;
  final LockPolicyStatus next;
  final ConditionSet conditions;

  /** Every LockPolicy the operator sees now (its informer's cache). */
  final List<LockPolicy> all;

  private final Backoff backoff;

  /** Where the locks live (set by {@link ValidateStep}). */
  String identity;

  /** The policies of the namespace that tie with this one (set by {@link ConflictsStep}). */
  List<PolicyConflict> conflicts = List.of();

  /** The Secrets of the policy's namespace, and the values it references (credentials step). */
  KubernetesSecretResolver secrets;

  List<String> credentials = List.of();

  /** The administration of the backend, through lock-sdk (set by {@link ProvisionStep}). */
  LockAdmin service;

  Pass(LockPolicy policy, List<LockPolicy> all, Backoff backoff) {
    this.policy = policy;
    this.ref = PolicyRef.of(policy);
    this.uid = policy.getMetadata().getUid();
    this.all = all;
    this.backoff = backoff;
    long generation = policy.getMetadata().getGeneration();
    this.before = policy.getStatus() == null ? new LockPolicyStatus() : policy.getStatus();
    this.next = new LockPolicyStatus();
    next.setObservedGeneration(generation);
    next.setEpoch(before.getEpoch());
    next.setBackendIdentity(before.getBackendIdentity());
    next.setBackendIncarnation(before.getBackendIncarnation());
    this.conditions = new ConditionSet(before.getConditions(), generation);
  }

  /** The address to show in a message: host and port, never a credential. */
  String endpoint() {
    return BackendIdentity.endpoint(policy);
  }

  /** Ready, unless the policy ties with another. */
  void ready(String reason, String message) {
    if (conflicts.isEmpty()) {
      conditions.set(READY, TRUE, reason, message);
    } else {
      conditions.set(
          READY,
          FALSE,
          Reasons.CONFLICTING,
          "another policy ties on some lock names; see the Conflicting condition");
    }
  }

  /** Conflicting is shown once it has applied: False after it ended, absent before. */
  void noConflict() {
    if (conditions.before(CONFLICTING) != null) {
      conditions.set(CONFLICTING, FALSE, Reasons.NO_CONFLICT, "no other policy ties with this one");
    }
  }

  /**
   * The backend could not be looked at: Ready False ({@code readyReason}, {@code readyMessage}),
   * BackendReachable and Provisioned Unknown ({@code reason}, "not checked: " {@code why}).
   */
  void notChecked(String readyReason, String readyMessage, String reason, String why) {
    conditions.set(READY, FALSE, readyReason, readyMessage);
    conditions.set(BACKEND_REACHABLE, UNKNOWN, reason, "not checked: " + why);
    conditions.set(PROVISIONED, UNKNOWN, reason, "not checked: " + why);
  }

  /** The backend did not answer: reported, and looked at again after the back-off. */
  Outcome unreachable(String detail) {
    String message = "cannot reach " + endpoint() + ": " + detail;
    conditions.set(BACKEND_REACHABLE, FALSE, Reasons.UNREACHABLE, message);
    var provisioned = conditions.before(PROVISIONED);
    if (provisioned == null || !TRUE.equals(provisioned.getStatus())) {
      conditions.set(PROVISIONED, UNKNOWN, Reasons.UNREACHABLE, "not checked: " + message);
    } else {
      // What was created is still there; this generation's provisioning waits for the backend.
      conditions.set(PROVISIONED, UNKNOWN, Reasons.UNREACHABLE, "not confirmed: " + message);
    }
    conditions.set(READY, FALSE, Reasons.UNREACHABLE, message);
    return failed();
  }

  /** The backend answered but refused: Provisioned and Ready False, looked at again later. */
  Outcome provisioningFailed(String message) {
    conditions.set(PROVISIONED, FALSE, Reasons.PROVISIONING_FAILED, message);
    conditions.set(READY, FALSE, Reasons.PROVISIONING_FAILED, message);
    return failed();
  }

  /** A failure that may pass by itself: try again after the back-off. */
  Outcome failed() {
    return Outcome.stop(backoff.failed(uid));
  }

  /** A pass that came to an end without failing: the back-off starts over. */
  Outcome done(java.time.Duration recheck) {
    backoff.reset(uid);
    return Outcome.stop(recheck);
  }
}
