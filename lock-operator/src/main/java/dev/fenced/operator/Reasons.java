package dev.fenced.operator;

/** The CamelCase reasons of conditions and Events, as docs/operator.md lists them. */
final class Reasons {

  static final String INVALID_SPEC = "InvalidSpec";
  static final String SECRET_NOT_FOUND = "SecretNotFound";
  static final String UNREACHABLE = "Unreachable";
  static final String CONNECTED = "Connected";
  static final String PROVISIONING_FAILED = "ProvisioningFailed";
  static final String PROVISIONED = "Provisioned";
  static final String NOTHING_TO_PROVISION = "NothingToProvision";
  static final String NO_BACKEND = "NoBackend";
  static final String NOT_CHECKED = "NotChecked";
  static final String CONFLICTING = "Conflicting";
  static final String PATTERNS_TIE = "PatternsTie";
  static final String NO_CONFLICT = "NoConflict";
  static final String DEPROVISIONED = "Deprovisioned";
  static final String KEPT_SHARED = "KeptForOtherPolicies";
  static final String CLEANUP_FAILED = "CleanupFailed";
  static final String CLEANUP_ABANDONED = "CleanupAbandoned";
  static final String EPOCH_RAISED = "EpochRaised";
  static final String BACKEND_INCIDENT = "BackendIncident";

  private Reasons() {}
}
