package dev.fenced.operator;

import dev.fenced.lock.LockAdmin;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Ledger;
import dev.fenced.lock.policy.KubernetesSecretResolver;
import dev.fenced.lock.policy.PolicyRef;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * What a deleted LockPolicy leaves behind, through the finalizer: its ledger entry is retired
 * (kept, so a policy created again resumes above its epoch), and what provisioning created is
 * removed unless another policy still uses it (another active policy with the same backend
 * identity, or a ledger entry not retired). An unreachable backend or a missing Secret is retried
 * with back-off, at most {@code fenced.operator.cleanup.max-attempts} times; then the finalizer
 * goes anyway with a Warning event, so a backend that is gone for good cannot keep a namespace from
 * being deleted.
 */
final class PolicyCleanup {

  private static final Logger LOG = Logger.getLogger(PolicyCleanup.class);

  private final KubernetesClient client;
  private final BackendClients clients;
  private final PolicyEvents events;
  private final BackendCalls calls;
  private final Backoff backoff;
  private final EpochStep epochs;
  private final int maxAttempts;

  /** Failed cleanup attempts, by policy uid. */
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  PolicyCleanup(
      KubernetesClient client,
      BackendClients clients,
      PolicyEvents events,
      BackendCalls calls,
      Backoff backoff,
      EpochStep epochs,
      int maxAttempts) {
    this.client = client;
    this.clients = clients;
    this.events = events;
    this.calls = calls;
    this.backoff = backoff;
    this.epochs = epochs;
    this.maxAttempts = maxAttempts;
  }

  DeleteControl cleanup(LockPolicy policy, Collection<LockPolicy> all) {
    String uid = policy.getMetadata().getUid();
    epochs.forget(uid);
    if (!Conflicts.isValid(policy) || !BackendIdentity.provisions(policy)) {
      forget(uid);
      return DeleteControl.defaultDelete();
    }
    String identity = BackendIdentity.of(policy);
    List<String> sharers =
        Conflicts.active(all).stream()
            .filter(p -> !Objects.equals(p.getMetadata().getUid(), uid))
            .filter(p -> BackendIdentity.of(p).equals(identity))
            .map(p -> PolicyRef.of(p).toString())
            .toList();
    long epoch =
        policy.getStatus() == null || policy.getStatus().getEpoch() == null
            ? 0
            : policy.getStatus().getEpoch();
    PolicyRecord record =
        new PolicyRecord(
            PolicyRef.of(policy).toString(), uid, policy.getMetadata().getGeneration(), epoch);
    String failure;
    try {
      KubernetesSecretResolver secrets =
          new KubernetesSecretResolver(client, policy.getMetadata().getNamespace());
      List<String> credentials = new ArrayList<>();
      for (SecretRefs.Ref ref : SecretRefs.of(policy)) {
        credentials.add(secrets.require(ref.name(), ref.key()));
      }
      LockAdmin service = clients.serviceFor(uid, policy, secrets, credentials);
      boolean usedInLedger = false;
      BackendLedger ledger = service.ledger().orElse(null);
      if (ledger != null) {
        Ledger after = calls.await(ledger.update(l -> retire(l, record)));
        usedInLedger = after.usedByOtherThan(record.policy(), service.backend());
      }
      boolean shared = !sharers.isEmpty() || usedInLedger;
      boolean removed = calls.await(service.deprovision(record, shared));
      forget(uid);
      events.emit(
          policy,
          PolicyEvents.NORMAL,
          shared ? Reasons.KEPT_SHARED : Reasons.DEPROVISIONED,
          shared
              ? "kept "
                  + identity
                  + ": still used by "
                  + (sharers.isEmpty() ? "other policies its ledger records" : sharers)
              : (removed ? "removed what provisioning created in " : "nothing left to remove in ")
                  + identity
                  + "; its ledger keeps epoch "
                  + epoch);
      return DeleteControl.defaultDelete();
    } catch (RuntimeException e) {
      failure = e.getMessage();
    }
    int attempts = failures.merge(uid, 1, Integer::sum);
    if (attempts >= maxAttempts) {
      LOG.warnf(
          "giving up cleanup of %s after %d attempts: %s", PolicyRef.of(policy), attempts, failure);
      events.emit(
          policy,
          PolicyEvents.WARNING,
          Reasons.CLEANUP_ABANDONED,
          "removed the finalizer after "
              + attempts
              + " failed cleanup attempts; "
              + identity
              + " may keep what was provisioned: "
              + failure);
      forget(uid);
      return DeleteControl.defaultDelete();
    }
    events.emit(
        policy,
        PolicyEvents.WARNING,
        Reasons.CLEANUP_FAILED,
        "cleanup attempt " + attempts + " of " + maxAttempts + " failed: " + failure);
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(backoff.after(attempts));
  }

  /**
   * Retires the policy's entry, if it is this policy's (a policy of the same name may be newer).
   */
  private static Ledger retire(Ledger ledger, PolicyRecord record) {
    return ledger
        .entry(record.policy())
        .filter(e -> e.uid().equals(record.uid()))
        .map(e -> ledger.retire(record.policy()))
        .orElse(ledger);
  }

  private void forget(String uid) {
    clients.release(uid);
    failures.remove(uid);
    backoff.reset(uid);
  }
}
