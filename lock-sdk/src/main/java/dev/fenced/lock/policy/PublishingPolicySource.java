package dev.fenced.lock.policy;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every {@link PolicySource} shares: the snapshots in force and telling listeners when they
 * change. Subclasses work out the new snapshot and hand it to {@link #publish}.
 */
abstract class PublishingPolicySource implements PolicySource {

  private static final Logger LOG = LoggerFactory.getLogger(PublishingPolicySource.class);

  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile List<LockPolicy> policies = List.of();
  private volatile List<PolicyProblem> problems = List.of();

  @Override
  public List<LockPolicy> policies() {
    return policies;
  }

  @Override
  public List<PolicyProblem> problems() {
    return problems;
  }

  @Override
  public void addListener(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  /**
   * Makes {@code nowPolicies} (when {@code policiesChanged}) and {@code nowProblems} the snapshots
   * in force, and tells every listener what changed; a failing listener is logged and the others
   * are still told. Called from the source's one update thread.
   */
  protected final void publish(
      List<LockPolicy> nowPolicies, List<PolicyProblem> nowProblems, boolean policiesChanged) {
    boolean problemsChanged = !nowProblems.equals(problems);
    if (policiesChanged) {
      policies = List.copyOf(nowPolicies);
    }
    if (problemsChanged) {
      problems = List.copyOf(nowProblems);
    }
    for (Listener listener : listeners) {
      try {
        if (policiesChanged) {
          listener.policiesChanged(policies);
        }
        if (problemsChanged) {
          listener.problemsChanged(problems);
        }
      } catch (RuntimeException e) {
        LOG.error("a LockPolicy listener failed", e);
      }
    }
  }
}
