package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.PROVISIONED;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

/**
 * InProcess and None keep their locks in each service's process: nothing to connect to or
 * provision, no ledger, so the epoch follows the status alone ({@link EpochStep#withoutBackend}).
 */
final class LocalBackendStep implements ReconcileStep {

  private final BackendClients clients;

  LocalBackendStep(BackendClients clients) {
    this.clients = clients;
  }

  @Override
  public Outcome run(Pass pass) {
    if (BackendIdentity.provisions(pass.policy)) {
      return Outcome.NEXT;
    }
    clients.release(pass.uid);
    pass.next.setEpoch(EpochStep.withoutBackend(pass.before, pass.identity));
    pass.next.setBackendIdentity(pass.identity);
    pass.next.setBackendIncarnation(null);
    pass.conditions.set(
        BACKEND_REACHABLE,
        TRUE,
        Reasons.NO_BACKEND,
        pass.policy.getSpec().getBackend().getType()
            + " keeps its locks in each service's process");
    pass.conditions.set(PROVISIONED, TRUE, Reasons.NOTHING_TO_PROVISION, "nothing to provision");
    pass.ready(Reasons.NOTHING_TO_PROVISION, "nothing to provision; " + pass.identity);
    return pass.done(null);
  }
}
