package dev.fenced.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.AggregatedMetrics;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetricsV2;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import java.util.List;
import java.util.Optional;

/**
 * What the Quarkus Operator SDK takes from the application: a JOSDK {@link
 * LeaderElectionConfiguration} (none when leader election is off) and the {@link Metrics} hooks
 * (JOSDK's own Micrometer metrics plus {@link OperatorMetrics}).
 */
@Singleton
public class OperatorWiring {

  private final LeaderElectionSettings settings;
  private final OperatorLeadership leadership;

  OperatorWiring(LeaderElectionSettings settings) {
    this.settings = settings;
    this.leadership = new OperatorLeadership(settings, Optional.empty(), Quarkus::asyncExit);
  }

  /**
   * Read by QOSDK when it builds the operator, in the profiles listed in {@code
   * quarkus.operator-sdk.activate-leader-election-for-profiles}; null (no election) when {@code
   * fenced.operator.leader-election.enabled} is false.
   */
  @Produces
  @Dependent
  LeaderElectionConfiguration leaderElection() {
    return settings.enabled() ? leadership.configuration() : null;
  }

  @Produces
  @Singleton
  Metrics metrics(MeterRegistry registry) {
    return new AggregatedMetrics(
        List.of(
            MicrometerMetricsV2.newBuilder(registry).build(),
            new OperatorMetrics(registry, leadership::leading)));
  }

  /** Before QOSDK stops the operator (default priority): the Lease is given up on purpose. */
  void onShutdown(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
    leadership.stopping();
  }

  OperatorLeadership leadership() {
    return leadership;
  }
}
