package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.FALSE;
import static dev.fenced.lock.policy.PolicyConditions.PROVISIONED;
import static dev.fenced.lock.policy.PolicyConditions.READY;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;
import static dev.fenced.lock.policy.PolicyConditions.UNKNOWN;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockService;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.policy.KubernetesSecretResolver;
import dev.fenced.lock.policy.LockPolicyValidator;
import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.PolicyConflict;
import dev.fenced.lock.policy.PolicyRef;
import dev.fenced.lock.policy.PolicyResolver;
import dev.fenced.lock.policy.Violation;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.Failures;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Reconciles a LockPolicy: validates it, resolves its Secrets, connects to its backend, provisions
 * it through lock-sdk, and writes {@code status} (conditions, epoch, backend identity) only when it
 * changed. Backend calls are bounded by {@code fenced.operator.backend-timeout}; failures
 * reschedule with exponential back-off instead of blocking. Deletion deprovisions through the
 * finalizer this {@link Cleaner} brings. See docs/operator.md.
 */
@ControllerConfiguration(name = LockPolicyReconciler.NAME)
public class LockPolicyReconciler implements Reconciler<LockPolicy>, Cleaner<LockPolicy> {

  /** The controller's name, and so the key of its {@code quarkus.operator-sdk.controllers.*}. */
  public static final String NAME = "lockpolicy";

  // Reasons, CamelCase, as docs/operator.md lists them.
  static final String INVALID_SPEC = "InvalidSpec";
  static final String SECRET_NOT_FOUND = "SecretNotFound";
  static final String UNREACHABLE = "Unreachable";
  static final String CONNECTED = "Connected";
  static final String PROVISIONING_FAILED = "ProvisioningFailed";
  static final String PROVISIONED_REASON = "Provisioned";
  static final String NOTHING_TO_PROVISION = "NothingToProvision";
  static final String NO_BACKEND = "NoBackend";
  static final String NOT_CHECKED = "NotChecked";
  static final String CONFLICTING_REASON = "Conflicting";
  static final String PATTERNS_TIE = "PatternsTie";
  static final String NO_CONFLICT = "NoConflict";
  static final String DEPROVISIONED = "Deprovisioned";
  static final String KEPT_SHARED = "KeptForOtherPolicies";
  static final String CLEANUP_FAILED = "CleanupFailed";
  static final String CLEANUP_ABANDONED = "CleanupAbandoned";

  private static final Logger LOG = Logger.getLogger(LockPolicyReconciler.class);

  private final KubernetesClient client;
  private final BackendClients clients;
  private final PolicyEvents events;
  private final Duration timeout;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final int maxCleanupAttempts;
  private final Duration recheck;

  /** Failed passes in a row, by policy uid: the exponent of the back-off. */
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  /** Failed cleanup attempts, by policy uid. */
  private final Map<String, Integer> cleanupFailures = new ConcurrentHashMap<>();

  LockPolicyReconciler(
      KubernetesClient client,
      BackendClients clients,
      PolicyEvents events,
      @ConfigProperty(name = "fenced.operator.backend-timeout", defaultValue = "10s")
          Duration timeout,
      @ConfigProperty(name = "fenced.operator.backoff.initial", defaultValue = "1s")
          Duration initialBackoff,
      @ConfigProperty(name = "fenced.operator.backoff.max", defaultValue = "60s")
          Duration maxBackoff,
      @ConfigProperty(name = "fenced.operator.cleanup.max-attempts", defaultValue = "5")
          int maxCleanupAttempts,
      @ConfigProperty(name = "fenced.operator.recheck-interval", defaultValue = "30s")
          Duration recheck) {
    this.client = client;
    this.clients = clients;
    this.events = events;
    this.timeout = timeout;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.maxCleanupAttempts = maxCleanupAttempts;
    this.recheck = recheck;
  }

  /**
   * A second informer on LockPolicy whose only job is to wake the policies a change can affect:
   * those that conflict with the changed policy now, and those whose status says they conflicted
   * (the change or deletion may have ended it).
   */
  @Override
  public List<EventSource<?, LockPolicy>> prepareEventSources(
      EventSourceContext<LockPolicy> context) {
    InformerEventSourceConfiguration<LockPolicy> config =
        InformerEventSourceConfiguration.from(LockPolicy.class, LockPolicy.class)
            .withName("conflict-peers")
            .withSecondaryToPrimaryMapper(
                changed -> peersOf(changed, context.getPrimaryCache().list().toList()))
            .build();
    return List.of(new InformerEventSource<>(config, context));
  }

  static Set<ResourceID> peersOf(LockPolicy changed, Collection<LockPolicy> all) {
    Set<ResourceID> out = new HashSet<>();
    PolicyRef self = PolicyRef.of(changed);
    for (LockPolicy other : all) {
      if (!PolicyRef.of(other).equals(self)
          && PolicyConditions.find(other, CONFLICTING)
              .filter(c -> TRUE.equals(c.getStatus()))
              .isPresent()) {
        out.add(ResourceID.fromResource(other));
      }
    }
    List<LockPolicy> candidates = new ArrayList<>(sameNamespace(active(all), changed));
    if (changed.getMetadata().getDeletionTimestamp() == null && isValid(changed)) {
      candidates.removeIf(p -> PolicyRef.of(p).equals(self));
      candidates.add(changed);
      for (PolicyConflict conflict : PolicyResolver.conflicts(candidates)) {
        if (conflict.involves(self)) {
          PolicyRef other = conflict.other(self);
          out.add(new ResourceID(other.name(), other.namespace()));
        }
      }
    }
    return out;
  }

  @Override
  public UpdateControl<LockPolicy> reconcile(LockPolicy policy, Context<LockPolicy> context) {
    long generation = policy.getMetadata().getGeneration();
    LockPolicyStatus before =
        policy.getStatus() == null ? new LockPolicyStatus() : policy.getStatus();
    LockPolicyStatus next = new LockPolicyStatus();
    next.setObservedGeneration(generation);
    next.setEpoch(before.getEpoch());
    next.setBackendIdentity(before.getBackendIdentity());
    ConditionSet conditions = new ConditionSet(before.getConditions(), generation);
    Duration retry = pass(policy, context, next, conditions);
    next.setConditions(conditions.conditions());
    for (ConditionSet.Transition t : conditions.transitions()) {
      boolean good = TRUE.equals(t.status()) != CONFLICTING.equals(t.type());
      events.emit(
          policy,
          good ? PolicyEvents.NORMAL : PolicyEvents.WARNING,
          t.reason(),
          t.type() + "=" + t.status() + ": " + t.message());
    }
    UpdateControl<LockPolicy> control;
    if (Serialization.asJson(next).equals(Serialization.asJson(before))) {
      control = UpdateControl.noUpdate();
    } else {
      policy.setStatus(next);
      control = UpdateControl.patchStatus(policy);
    }
    return retry == null ? control : control.rescheduleAfter(retry);
  }

  /** Fills {@code next} and the conditions; answers when to look again, or null for never. */
  private Duration pass(
      LockPolicy policy, Context<LockPolicy> context, LockPolicyStatus next, ConditionSet c) {
    String uid = policy.getMetadata().getUid();
    List<Violation> violations = LockPolicyValidator.validate(policy);
    if (!violations.isEmpty()) {
      String message =
          violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
      c.set(READY, FALSE, INVALID_SPEC, message);
      c.set(BACKEND_REACHABLE, UNKNOWN, NOT_CHECKED, "not checked: the spec is invalid");
      c.set(PROVISIONED, UNKNOWN, NOT_CHECKED, "not checked: the spec is invalid");
      keepConflictingFalse(c);
      failures.remove(uid);
      // No reschedule: only a spec change (a new generation) can fix it.
      return null;
    }

    String identity = BackendIdentity.of(policy);
    next.setEpoch(nextEpoch(next, identity));
    next.setBackendIdentity(identity);

    List<PolicyConflict> conflicts = conflictsOf(policy, context.getPrimaryCache().list().toList());
    if (conflicts.isEmpty()) {
      keepConflictingFalse(c);
    } else {
      String others =
          conflicts.stream()
              .map(x -> x.other(PolicyRef.of(policy)).toString())
              .distinct()
              .collect(Collectors.joining(", "));
      c.set(
          CONFLICTING,
          TRUE,
          PATTERNS_TIE,
          "conflicts with "
              + others
              + ": "
              + conflicts.stream().map(PolicyConflict::message).collect(Collectors.joining("; ")));
    }

    if (!BackendIdentity.provisions(policy)) {
      clients.release(uid);
      c.set(
          BACKEND_REACHABLE,
          TRUE,
          NO_BACKEND,
          policy.getSpec().getBackend().getType() + " keeps its locks in each service's process");
      c.set(PROVISIONED, TRUE, NOTHING_TO_PROVISION, "nothing to provision");
      ready(c, conflicts, NOTHING_TO_PROVISION, "nothing to provision; " + identity);
      failures.remove(uid);
      return null;
    }

    // Secrets
    KubernetesSecretResolver secrets =
        new KubernetesSecretResolver(client, policy.getMetadata().getNamespace());
    List<String> credentials = new ArrayList<>();
    for (SecretRefs.Ref ref : SecretRefs.of(policy)) {
      String missing = null;
      try {
        var value = secrets.find(ref.name(), ref.key());
        if (value.isPresent()) {
          credentials.add(value.get());
        } else {
          missing =
              secrets.exists(ref.name())
                  ? "Secret \"" + ref.name() + "\" has no key \"" + ref.key() + "\""
                  : "Secret \"" + ref.name() + "\" not found (key \"" + ref.key() + "\")";
        }
      } catch (RuntimeException e) {
        missing =
            "Secret \"" + ref.name() + "\" key \"" + ref.key() + "\" unreadable: " + e.getMessage();
      }
      if (missing != null) {
        String message = missing + " in namespace " + policy.getMetadata().getNamespace();
        c.set(READY, FALSE, SECRET_NOT_FOUND, message);
        c.set(BACKEND_REACHABLE, UNKNOWN, SECRET_NOT_FOUND, "not checked: " + message);
        c.set(PROVISIONED, UNKNOWN, SECRET_NOT_FOUND, "not checked: " + message);
        return backoff(uid);
      }
    }

    AbstractLockService service;
    try {
      service = clients.serviceFor(uid, policy, secrets, credentials);
    } catch (RuntimeException e) {
      c.set(READY, FALSE, INVALID_SPEC, e.getMessage());
      c.set(BACKEND_REACHABLE, UNKNOWN, NOT_CHECKED, "not checked: " + e.getMessage());
      c.set(PROVISIONED, UNKNOWN, NOT_CHECKED, "not checked: " + e.getMessage());
      return null;
    }

    String endpoint = BackendIdentity.endpoint(policy);
    BackendProbe probe;
    try {
      probe = await(service.probe());
    } catch (RuntimeException e) {
      probe = BackendProbe.down(service.backend(), e);
    }
    if (!probe.reachable()) {
      return unreachable(uid, c, endpoint, probe.detail());
    }
    // The etcd detail carries the current revision: leave it out, or every pass rewrites status.
    c.set(BACKEND_REACHABLE, TRUE, CONNECTED, probe.detail().replaceAll(", revision \\d+", ""));

    try {
      await(service.provision());
      await(
          service.recordPolicy(
              new PolicyRecord(
                  PolicyRef.of(policy).toString(),
                  uid,
                  policy.getMetadata().getGeneration(),
                  next.getEpoch())));
    } catch (BackendUnavailableException e) {
      return unreachable(
          uid, c, endpoint, BackendProbe.down(service.backend(), e.getCause()).detail());
    } catch (RuntimeException e) {
      String message = "provisioning " + identity + " failed: " + e.getMessage();
      c.set(PROVISIONED, FALSE, PROVISIONING_FAILED, message);
      c.set(READY, FALSE, PROVISIONING_FAILED, message);
      return backoff(uid);
    }
    c.set(PROVISIONED, TRUE, PROVISIONED_REASON, provisionedWhat(policy, service));
    ready(c, conflicts, PROVISIONED_REASON, identity + ", epoch " + next.getEpoch());
    failures.remove(uid);
    // Look again later, so a backend that goes away is reported (and its return noticed).
    return recheck;
  }

  private Duration unreachable(String uid, ConditionSet c, String endpoint, String detail) {
    String message = "cannot reach " + endpoint + ": " + detail;
    c.set(BACKEND_REACHABLE, FALSE, UNREACHABLE, message);
    var provisioned = c.before(PROVISIONED);
    if (provisioned == null || !TRUE.equals(provisioned.getStatus())) {
      c.set(PROVISIONED, UNKNOWN, UNREACHABLE, "not checked: " + message);
    } else {
      // What was created is still there; this generation's provisioning waits for the backend.
      c.set(PROVISIONED, UNKNOWN, UNREACHABLE, "not confirmed: " + message);
    }
    c.set(READY, FALSE, UNREACHABLE, message);
    return backoff(uid);
  }

  private static void ready(
      ConditionSet c, List<PolicyConflict> conflicts, String reason, String message) {
    if (conflicts.isEmpty()) {
      c.set(READY, TRUE, reason, message);
    } else {
      c.set(
          READY,
          FALSE,
          CONFLICTING_REASON,
          "another policy ties on some lock names; see the Conflicting condition");
    }
  }

  /** Conflicting is shown once it has applied: False after it ended, absent before. */
  private static void keepConflictingFalse(ConditionSet c) {
    if (c.before(CONFLICTING) != null) {
      c.set(CONFLICTING, FALSE, NO_CONFLICT, "no other policy ties with this one");
    }
  }

  /**
   * Epoch rules: the first identity gets epoch 1; an identity other than the recorded one raises
   * the epoch by one; an epoch without a recorded identity (written by hand or cut short) is raised
   * by one too, since a larger epoch is always safe and a smaller one never is.
   */
  static long nextEpoch(LockPolicyStatus status, String identity) {
    Long epoch = status.getEpoch();
    if (epoch == null || epoch < 1) {
      return 1;
    }
    if (status.getBackendIdentity() == null || !status.getBackendIdentity().equals(identity)) {
      return epoch + 1;
    }
    return epoch;
  }

  static List<PolicyConflict> conflictsOf(LockPolicy policy, Collection<LockPolicy> all) {
    PolicyRef self = PolicyRef.of(policy);
    List<LockPolicy> candidates = new ArrayList<>(sameNamespace(active(all), policy));
    candidates.removeIf(p -> PolicyRef.of(p).equals(self));
    candidates.add(policy);
    return PolicyResolver.conflicts(candidates).stream().filter(x -> x.involves(self)).toList();
  }

  private static List<LockPolicy> active(Collection<LockPolicy> all) {
    return all.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(LockPolicyReconciler::isValid)
        .toList();
  }

  /**
   * Lock names are resolved per namespace (a service reads the policies of its own namespace), so
   * only policies of one namespace can conflict.
   */
  private static List<LockPolicy> sameNamespace(List<LockPolicy> all, LockPolicy policy) {
    String namespace = policy.getMetadata().getNamespace();
    return all.stream()
        .filter(p -> Objects.equals(p.getMetadata().getNamespace(), namespace))
        .toList();
  }

  private static boolean isValid(LockPolicy policy) {
    return LockPolicyValidator.validate(policy).isEmpty();
  }

  private static String provisionedWhat(LockPolicy policy, LockService service) {
    var backend = policy.getSpec().getBackend();
    return switch (backend.getType()) {
      case Postgres ->
          switch (backend.getPostgres().getMode()) {
                case LockTable -> "table distributed_locks and sequence fenced_fence_seq";
                case RowLock -> "table fenced_row_locks and sequence fenced_fence_seq";
                case Advisory -> "sequence fenced_fence_seq";
              }
              + " in "
              + BackendIdentity.endpoint(policy);
      case Redis -> "lock scripts loaded and policy record in hash fenced:policies";
      case Etcd ->
          "marker and policy record under "
              + BackendIdentity.endpoint(policy).replaceFirst(".* prefix=", "");
      case ZooKeeper -> "base path " + backend.getZookeeper().getBasePath();
      case KubernetesLease -> "Leases readable in " + BackendIdentity.endpoint(policy);
      case InProcess, None -> "nothing to provision";
    };
  }

  private Duration backoff(String uid) {
    int n = failures.merge(uid, 1, Integer::sum);
    return backoffFor(n);
  }

  private Duration backoffFor(int failuresInARow) {
    long millis = initialBackoff.toMillis() << Math.min(failuresInARow - 1, 20);
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }

  private <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "backend", null, new TimeoutException("no answer within " + timeout));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackendUnavailableException("backend", null, e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = Failures.unwrap(e.getCause());
      throw cause instanceof RuntimeException r
          ? r
          : new BackendUnavailableException("backend", null, cause);
    }
  }

  /**
   * Deprovisions unless another active policy (any namespace this operator watches) has the same
   * backend identity. An unreachable backend or a missing Secret is retried with back-off, at most
   * {@code fenced.operator.cleanup.max-attempts} times; then the finalizer goes anyway with a
   * Warning event, so a backend that is gone for good cannot keep a namespace from being deleted.
   */
  @Override
  public DeleteControl cleanup(LockPolicy policy, Context<LockPolicy> context) {
    String uid = policy.getMetadata().getUid();
    if (!isValid(policy) || !BackendIdentity.provisions(policy)) {
      clients.release(uid);
      cleanupFailures.remove(uid);
      return DeleteControl.defaultDelete();
    }
    String identity = BackendIdentity.of(policy);
    List<String> sharers =
        active(context.getPrimaryCache().list().toList()).stream()
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
      AbstractLockService service = clients.serviceFor(uid, policy, secrets, credentials);
      boolean removed = await(service.deprovision(record, !sharers.isEmpty()));
      clients.release(uid);
      cleanupFailures.remove(uid);
      failures.remove(uid);
      events.emit(
          policy,
          PolicyEvents.NORMAL,
          sharers.isEmpty() ? DEPROVISIONED : KEPT_SHARED,
          sharers.isEmpty()
              ? (removed
                      ? "removed what provisioning created in "
                      : "removed the policy record in ")
                  + identity
              : "kept " + identity + ": still used by " + String.join(", ", sharers));
      return DeleteControl.defaultDelete();
    } catch (RuntimeException e) {
      failure = e.getMessage();
    }
    int attempts = cleanupFailures.merge(uid, 1, Integer::sum);
    if (attempts >= maxCleanupAttempts) {
      LOG.warnf(
          "giving up cleanup of %s after %d attempts: %s", PolicyRef.of(policy), attempts, failure);
      events.emit(
          policy,
          PolicyEvents.WARNING,
          CLEANUP_ABANDONED,
          "removed the finalizer after "
              + attempts
              + " failed cleanup attempts; "
              + identity
              + " may keep what was provisioned: "
              + failure);
      clients.release(uid);
      cleanupFailures.remove(uid);
      return DeleteControl.defaultDelete();
    }
    events.emit(
        policy,
        PolicyEvents.WARNING,
        CLEANUP_FAILED,
        "cleanup attempt " + attempts + " of " + maxCleanupAttempts + " failed: " + failure);
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(backoffFor(attempts));
  }
}
