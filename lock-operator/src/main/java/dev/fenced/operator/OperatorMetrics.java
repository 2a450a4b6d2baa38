package dev.fenced.operator;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.Cache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * The operator's own metrics, fed by JOSDK's {@link Metrics} hooks, so the reconciler stays unaware
 * of them. Names are Micrometer's; Prometheus shows them with underscores:
 *
 * <ul>
 *   <li>{@code fenced_operator_reconciles_total{outcome="success|failure"}}: passes that completed,
 *       and passes that threw (JOSDK retries those). A backend that is down is a completed pass
 *       that reports {@code Ready=False}, seen in the next gauge.
 *   <li>{@code fenced_operator_policy_ready{namespace,name,backend}}: 1 when the policy's status
 *       says {@code Ready=True} for its current generation (what services require), else 0.
 *   <li>{@code fenced_operator_policy_epoch{namespace,name}}: {@code status.epoch} (NaN until it
 *       has one).
 *   <li>{@code fenced_operator_leader}: 1 while this instance reconciles (holds the Lease, or
 *       leader election is off), 0 while it stands by.
 * </ul>
 *
 * <p>The policy gauges are read from the controller's informer cache when scraped, so every replica
 * reports them, the follower included: they describe the policies' status, whoever wrote it. Their
 * set of series follows the cache on every event the controller receives (a new or deleted policy,
 * a changed spec) and after every reconcile; a status-only change is no event for a
 * generation-aware controller, which is why the values are read at scrape time, not kept.
 */
public final class OperatorMetrics implements Metrics {

  static final String RECONCILES = "fenced.operator.reconciles";
  static final String POLICY_READY = "fenced.operator.policy.ready";
  static final String POLICY_EPOCH = "fenced.operator.policy.epoch";
  static final String LEADER = "fenced.operator.leader";

  private static final Logger LOG = Logger.getLogger(OperatorMetrics.class);

  private final Counter succeeded;
  private final Counter failed;
  private final MultiGauge ready;
  private final MultiGauge epoch;
  private final BooleanSupplier leading;
  private volatile Cache<LockPolicy> policies;
  private volatile boolean elected;

  /**
   * @param leading whether this instance holds the Lease; asked only when leader election is on
   */
  OperatorMetrics(MeterRegistry registry, BooleanSupplier leading) {
    this.leading = leading;
    this.succeeded = reconciles(registry, "success");
    this.failed = reconciles(registry, "failure");
    this.ready =
        MultiGauge.builder(POLICY_READY)
            .description("1 when the LockPolicy is Ready for its current generation, 0 otherwise")
            .register(registry);
    this.epoch =
        MultiGauge.builder(POLICY_EPOCH)
            .description("The LockPolicy's fencing epoch (status.epoch)")
            .register(registry);
    Gauge.builder(LEADER, this, OperatorMetrics::leader)
        .description("1 while this operator instance reconciles (leads), 0 while it stands by")
        .strongReference(true)
        .register(registry);
  }

  private static Counter reconciles(MeterRegistry registry, String outcome) {
    return Counter.builder(RECONCILES)
        .description("LockPolicy reconciles by outcome: success (completed) or failure (threw)")
        .tag("outcome", outcome)
        .register(registry);
  }

  private double leader() {
    if (policies == null) {
      return 0; // no controller registered yet
    }
    return !elected || leading.getAsBoolean() ? 1 : 0;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void controllerRegistered(Controller<? extends HasMetadata> controller) {
    if (controller.getConfiguration().getResourceClass() == LockPolicy.class) {
      elected =
          controller
              .getConfiguration()
              .getConfigurationService()
              .getLeaderElectionConfiguration()
              .isPresent();
      // Its cache fills once the controller starts; the first event brings the series.
      policies =
          ((Controller<LockPolicy>) controller).getEventSourceManager().getControllerEventSource();
    }
  }

  @Override
  public void eventReceived(Event event, Map<String, Object> metadata) {
    refresh();
  }

  @Override
  public void reconciliationSucceeded(HasMetadata resource, Map<String, Object> metadata) {
    succeeded.increment();
    refresh();
  }

  @Override
  public void reconciliationFailed(
      HasMetadata resource, RetryInfo retry, Exception exception, Map<String, Object> metadata) {
    failed.increment();
  }

  @Override
  public void cleanupDone(ResourceID resourceID, Map<String, Object> metadata) {
    refresh();
  }

  /**
   * One series per cached policy; the values are read from the cache when scraped. Never throws: a
   * metrics hook must not fail the controller.
   */
  private synchronized void refresh() {
    Cache<LockPolicy> cache = policies;
    if (cache == null) {
      return;
    }
    List<MultiGauge.Row<?>> readyRows = new ArrayList<>();
    List<MultiGauge.Row<?>> epochRows = new ArrayList<>();
    try {
      for (LockPolicy p : cache.list().toList()) {
        ResourceID id = ResourceID.fromResource(p);
        Tags tags = Tags.of("namespace", id.getNamespace().orElse(""), "name", id.getName());
        readyRows.add(MultiGauge.Row.of(tags.and("backend", backend(p)), id, this::readyValue));
        epochRows.add(MultiGauge.Row.of(tags, id, this::epochValue));
      }
    } catch (RuntimeException e) {
      LOG.debugf(e, "policy gauges not refreshed");
      return;
    }
    ready.register(readyRows, true);
    epoch.register(epochRows, true);
  }

  private Optional<LockPolicy> cached(ResourceID id) {
    try {
      return policies.get(id);
    } catch (RuntimeException e) { // the controller stopped
      return Optional.empty();
    }
  }

  private static String backend(LockPolicy p) {
    if (p.getSpec() == null
        || p.getSpec().getBackend() == null
        || p.getSpec().getBackend().getType() == null) {
      return "";
    }
    return p.getSpec().getBackend().getType().name();
  }

  private double readyValue(ResourceID id) {
    return cached(id)
        .map(p -> PolicyConditions.isReadyForCurrentGeneration(p) ? 1.0 : 0.0)
        .orElse(Double.NaN);
  }

  private double epochValue(ResourceID id) {
    return cached(id)
        .map(LockPolicy::getStatus)
        .map(s -> s.getEpoch() == null ? Double.NaN : s.getEpoch().doubleValue())
        .orElse(Double.NaN);
  }
}
