package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockAdmin;
import org.jboss.logging.Logger;

/**
 * Connects through the shared client of the backend ({@link BackendClients}), probes it, and
 * provisions it through lock-sdk (tables, scripts, base path, marker; idempotent). Unreachable:
 * BackendReachable False naming the endpoint, retried with back-off. Refused: Provisioned False,
 * reason ProvisioningFailed.
 */
final class ProvisionStep implements ReconcileStep {

  private static final Logger LOG = Logger.getLogger(ProvisionStep.class);

  private final BackendClients clients;
  private final BackendCalls calls;

  ProvisionStep(BackendClients clients, BackendCalls calls) {
    this.clients = clients;
    this.calls = calls;
  }

  @Override
  public Outcome run(Pass pass) {
    retireOnTheOldBackend(pass);
    LockAdmin service;
    try {
      service = clients.serviceFor(pass.uid, pass.policy, pass.secrets, pass.credentials);
    } catch (RuntimeException e) {
      pass.notChecked(Reasons.INVALID_SPEC, e.getMessage(), Reasons.NOT_CHECKED, e.getMessage());
      return pass.done(null);
    }
    pass.service = service;

    BackendProbe probe;
    try {
      probe = calls.await(service.probe());
    } catch (RuntimeException e) {
      probe = BackendProbe.down(service.backend(), e);
    }
    if (!probe.reachable()) {
      return pass.unreachable(probe.detail());
    }
    // The etcd detail carries the current revision: leave it out, or every pass rewrites status.
    pass.conditions.set(
        BACKEND_REACHABLE,
        TRUE,
        Reasons.CONNECTED,
        probe.detail().replaceAll(", revision \\d+", ""));

    try {
      calls.await(service.provision());
    } catch (BackendUnavailableException e) {
      return pass.unreachable(BackendProbe.down(service.backend(), e.getCause()).detail());
    } catch (RuntimeException e) {
      return pass.provisioningFailed(
          "provisioning " + pass.identity + " failed: " + e.getMessage());
    }
    return Outcome.NEXT;
  }

  /**
   * A policy that moved leaves its ledger entry on the backend it left retired (its epoch still
   * counts there), so it no longer counts as a user of that backend's resources. Best effort: the
   * old backend may be gone, and an operator restarted since the move no longer knows it.
   */
  private void retireOnTheOldBackend(Pass pass) {
    LockAdmin old = clients.movedFrom(pass.uid, pass.identity);
    if (old == null) {
      return;
    }
    String key = pass.ref.toString();
    old.ledger()
        .ifPresent(
            ledger -> {
              try {
                calls.await(
                    ledger.update(
                        l ->
                            l.entry(key).filter(e -> e.uid().equals(pass.uid)).isPresent()
                                ? l.retire(key)
                                : l));
              } catch (RuntimeException e) {
                LOG.debugf("could not retire %s in %s: %s", key, ledger.where(), e.getMessage());
              }
            });
  }
}
