package dev.fenced.lock.policy;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.util.List;

/**
 * Where a service gets its LockPolicies from: a Kubernetes informer, or a directory of YAML files
 * for runs without a cluster. A source only ever offers policies that passed {@link
 * LockPolicyValidator}; a broken update is reported as a {@link PolicyProblem} and the version
 * accepted before stays in force.
 */
public interface PolicySource extends AutoCloseable {

  /** Told about changes, on the source's own thread; must return quickly and not block. */
  interface Listener {

    /** The policies in force changed; {@code policies} is the complete new set. */
    void policiesChanged(List<LockPolicy> policies);

    /** The set of current problems changed; {@code problems} is the complete new set. */
    default void problemsChanged(List<PolicyProblem> problems) {}
  }

  /** The policies in force now, each valid; an immutable snapshot. */
  List<LockPolicy> policies();

  /** What the source could not accept, as of now; an immutable snapshot. */
  List<PolicyProblem> problems();

  /**
   * Registers a listener for later changes. To miss nothing, register first, then read {@link
   * #policies()}.
   */
  void addListener(Listener listener);

  void removeListener(Listener listener);

  /**
   * Whether an operator keeps these policies' fencing epochs ({@code status.epoch}, raised with
   * every backend move and every backend incident, and {@code status.backendIncarnation}); then a
   * service only holds back while the backend's incarnation differs from the status. When false
   * (policy files, no operator), {@link PolicyLocks} raises the epoch itself through the backend's
   * ledger. True unless a source says otherwise.
   */
  default boolean operatorManaged() {
    return true;
  }

  /** Stops watching; the last policies stay readable. Safe to call more than once. */
  @Override
  void close();
}
