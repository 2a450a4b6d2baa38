package dev.fenced.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * Leader election on a {@code coordination.k8s.io/v1} Lease, so that several replicas of the
 * operator can run and only one reconciles. The Quarkus Operator SDK takes a JOSDK {@code
 * LeaderElectionConfiguration} bean but has no properties for it; these fill that gap. They live
 * under {@code fenced.operator} (Quarkus reports keys of its own namespace that no extension
 * declares as unrecognized); {@code enabled} also reads {@code
 * QUARKUS_OPERATOR_SDK_LEADER_ELECTION_ENABLED} (application.properties). See
 * docs/operator.md#high-availability.
 */
@ConfigMapping(prefix = LeaderElectionSettings.PREFIX)
public interface LeaderElectionSettings {

  String PREFIX = "fenced.operator.leader-election";

  /** Whether replicas elect a leader; off, every replica reconciles (run only one). */
  @WithDefault("false")
  boolean enabled();

  /** The Lease the replicas compete for. */
  @WithDefault("fenced-lock-operator")
  String leaseName();

  /** The Lease's namespace; by default the operator's own (the client's namespace). */
  Optional<String> leaseNamespace();

  /**
   * How long a follower waits after the leader's last renewal before it takes the Lease: the
   * longest a crashed leader leaves the policies unreconciled.
   */
  @WithDefault("15s")
  Duration leaseDuration();

  /**
   * How long the leader keeps trying to renew before it gives up leading; shorter than the lease
   * duration, so it stops before anyone else can start.
   */
  @WithDefault("10s")
  Duration renewDeadline();

  /**
   * How often the leader renews and a follower tries to take the Lease (plus up to 120% jitter).
   */
  @WithDefault("2s")
  Duration retryPeriod();

  /** This replica's name in the Lease; by default {@code HOSTNAME} (the pod's name). */
  Optional<String> identity();

  /**
   * Whether a leader that loses the Lease while running exits (and restarts as a follower), so two
   * replicas never reconcile at once. Stopping the operator never exits.
   */
  @WithDefault("true")
  boolean exitOnLostLease();
}
