package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.TRUE;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
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
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Reconciles a LockPolicy by running its steps in order, each a small class that owns one managed
 * thing: {@link ValidateStep} the spec, {@link ConflictsStep} ties with other policies, {@link
 * LocalBackendStep} the backends that need nothing outside the services, {@link CredentialsStep}
 * the referenced Secrets, {@link ProvisionStep} the backend's client and what provisioning creates,
 * {@link EpochStep} the fencing epoch and the backend's ledger, {@link ReadyStep} the verdict. Then
 * it writes {@code status} (conditions, epoch, backend identity and incarnation) only when it
 * changed, with an Event for every condition that flipped. Backend calls are bounded by {@code
 * fenced.operator.backend-timeout}; failures reschedule with exponential back-off instead of
 * blocking. Deletion goes through the finalizer this {@link Cleaner} brings ({@link
 * PolicyCleanup}). See docs/operator.md.
 */
@ControllerConfiguration(name = LockPolicyReconciler.NAME)
public class LockPolicyReconciler implements Reconciler<LockPolicy>, Cleaner<LockPolicy> {

  /** The controller's name, and so the key of its {@code quarkus.operator-sdk.controllers.*}. */
  public static final String NAME = "lockpolicy";

  private final PolicyEvents events;
  private final Backoff backoff;
  private final List<ReconcileStep> steps;
  private final PolicyCleanup cleanup;

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
    this.events = events;
    this.backoff = new Backoff(initialBackoff, maxBackoff);
    BackendCalls calls = new BackendCalls(timeout);
    EpochStep epoch = new EpochStep(calls, events);
    this.steps =
        List.of(
            new ValidateStep(),
            new ConflictsStep(),
            new LocalBackendStep(clients),
            new CredentialsStep(client),
            new ProvisionStep(clients, calls),
            epoch,
            new ReadyStep(recheck));
    this.cleanup =
        new PolicyCleanup(client, clients, events, calls, backoff, epoch, maxCleanupAttempts);
  }

  /**
   * A second informer on LockPolicy whose only job is to wake the policies a change can affect
   * ({@link Conflicts#peersOf}).
   */
  @Override
  public List<EventSource<?, LockPolicy>> prepareEventSources(
      EventSourceContext<LockPolicy> context) {
    InformerEventSourceConfiguration<LockPolicy> config =
        InformerEventSourceConfiguration.from(LockPolicy.class, LockPolicy.class)
            .withName("conflict-peers")
            .withSecondaryToPrimaryMapper(
                changed -> Conflicts.peersOf(changed, context.getPrimaryCache().list().toList()))
            .build();
    return List.of(new InformerEventSource<>(config, context));
  }

  @Override
  public UpdateControl<LockPolicy> reconcile(LockPolicy policy, Context<LockPolicy> context) {
    Pass pass = new Pass(policy, context.getPrimaryCache().list().toList(), backoff);
    Outcome outcome = Outcome.NEXT;
    for (ReconcileStep step : steps) {
      outcome = step.run(pass);
      if (outcome.stop()) {
        break;
      }
    }
    pass.next.setConditions(pass.conditions.conditions());
    for (ConditionSet.Transition t : pass.conditions.transitions()) {
      boolean good = TRUE.equals(t.status()) != CONFLICTING.equals(t.type());
      events.emit(
          policy,
          good ? PolicyEvents.NORMAL : PolicyEvents.WARNING,
          t.reason(),
          t.type() + "=" + t.status() + ": " + t.message());
    }
    UpdateControl<LockPolicy> control;
    if (Serialization.asJson(pass.next).equals(Serialization.asJson(pass.before))) {
      control = UpdateControl.noUpdate();
    } else {
      policy.setStatus(pass.next);
      control = UpdateControl.patchStatus(policy);
    }
    return outcome.retry() == null ? control : control.rescheduleAfter(outcome.retry());
  }

  @Override
  public DeleteControl cleanup(LockPolicy policy, Context<LockPolicy> context) {
    return cleanup.cleanup(policy, context.getPrimaryCache().list().toList());
  }
}
