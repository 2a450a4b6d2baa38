package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.PROVISIONED;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

import dev.fenced.lock.policy.v1alpha1.Backend;
import java.time.Duration;

/**
 * The end of a pass that went through: Provisioned True saying what exists, Ready True (unless a
 * tie), and a look again after {@code fenced.operator.recheck-interval}, so a backend that goes
 * away, or comes back as another incarnation, is noticed.
 */
final class ReadyStep implements ReconcileStep {

  private final Duration recheck;

  ReadyStep(Duration recheck) {
    this.recheck = recheck;
  }

  @Override
  public Outcome run(Pass pass) {
    pass.conditions.set(PROVISIONED, TRUE, Reasons.PROVISIONED, provisionedWhat(pass));
    pass.ready(Reasons.PROVISIONED, pass.identity + ", epoch " + pass.next.getEpoch());
    return pass.done(recheck);
  }

  static String provisionedWhat(Pass pass) {
    Backend backend = pass.policy.getSpec().getBackend();
    String ledger =
        pass.service == null
            ? ""
            : pass.service.ledger().map(l -> "; ledger in " + l.where()).orElse("");
    return switch (backend.getType()) {
          case Postgres ->
              switch (backend.getPostgres().getMode()) {
                    case LockTable -> "table distributed_locks and sequence fenced_fence_seq";
                    case RowLock -> "table fenced_row_locks and sequence fenced_fence_seq";
                    case Advisory -> "sequence fenced_fence_seq";
                  }
                  + " in "
                  + pass.endpoint();
          case Redis -> "lock scripts loaded and incarnation marker set";
          case Etcd -> "marker under " + pass.endpoint().replaceFirst(".* prefix=", "");
          case ZooKeeper -> "base path " + backend.getZookeeper().getBasePath();
          case KubernetesLease -> "Leases usable in " + pass.endpoint();
          case InProcess, None -> "nothing to provision";
        }
        + ledger;
  }
}
