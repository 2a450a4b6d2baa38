package dev.fenced.operator;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.jboss.logging.Logger;

/**
 * One operator instance's part in leader election. JOSDK's {@code LeaderElectionManager} (over
 * Fabric8's {@code LeaderElector} and a {@code LeaseLock}) does the election and starts event
 * processing only on the leader; this class turns {@link LeaderElectionSettings} into its
 * configuration, checked up front, and follows whether this instance leads.
 *
 * <p>A leader that loses the Lease while running exits with status 1 when {@link
 * LeaderElectionSettings#exitOnLostLease()} is set: the pod restarts as a follower, so two replicas
 * never reconcile at once (JOSDK 5.3.2 would otherwise go on processing events). JOSDK's own {@code
 * exitOnStopLeading} stays off: it also fires when the operator is being stopped, and {@code
 * System.exit} from the JVM shutdown hook that stops it deadlocks; here a Lease given up because
 * the operator is stopping ({@link #stopping()}) is expected and only logged.
 */
public final class OperatorLeadership {

  private static final Logger LOG = Logger.getLogger(OperatorLeadership.class);

  /** Fabric8's LeaderElector waits up to this factor of the retry period more (jitter). */
  static final double RETRY_JITTER = 1.2;

  private final LeaderElectionSettings settings;
  private final String identity;
  private final IntConsumer exit;
  private final AtomicBoolean leading = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();

  /**
   * @param identity this instance's name in the Lease; empty for the settings' identity, else
   *     {@code HOSTNAME}, else a random one
   * @param exit what ends the process with a status, when a running leader loses the Lease
   */
  OperatorLeadership(LeaderElectionSettings settings, Optional<String> identity, IntConsumer exit) {
    this.settings = settings;
    this.identity =
        identity
            .or(settings::identity)
            .or(() -> Optional.ofNullable(System.getenv("HOSTNAME")))
            .filter(s -> !s.isBlank())
            .orElseGet(() -> UUID.randomUUID().toString());
    this.exit = exit;
  }

  /**
   * The JOSDK configuration for these settings.
   *
   * @throws IllegalArgumentException naming every setting that is out of range
   */
  LeaderElectionConfiguration configuration() {
    List<String> problems = problems(settings);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid leader election settings: " + String.join("; ", problems));
    }
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(settings.leaseName())
        .withLeaseNamespace(settings.leaseNamespace().filter(s -> !s.isBlank()).orElse(null))
        .withIdentity(identity)
        .withLeaseDuration(settings.leaseDuration())
        .withRenewDeadline(settings.renewDeadline())
        .withRetryPeriod(settings.retryPeriod())
        .withLeaderCallbacks(
            new LeaderCallbacks(this::startedLeading, this::stoppedLeading, n -> {}))
        .build(); // leaves JOSDK's own exit off: stoppedLeading decides
  }

  /**
   * What is wrong with {@code settings}, one message per setting, each naming it: the Lease name
   * must be set, durations positive, the renew deadline shorter than the lease and longer than a
   * retry period with its jitter (what Fabric8's LeaderElector requires, said in our keys).
   */
  static List<String> problems(LeaderElectionSettings settings) {
    String p = LeaderElectionSettings.PREFIX + ".";
    List<String> out = new ArrayList<>();
    if (settings.leaseName().isBlank()) {
      out.add(p + "lease-name must not be blank");
    }
    Duration lease = settings.leaseDuration();
    Duration renew = settings.renewDeadline();
    Duration retry = settings.retryPeriod();
    boolean positive = positive(out, p + "lease-duration", lease);
    positive &= positive(out, p + "renew-deadline", renew);
    positive &= positive(out, p + "retry-period", retry);
    if (!positive) {
      return out;
    }
    if (renew.compareTo(lease) >= 0) {
      out.add(
          p + "renew-deadline (" + renew + ") must be shorter than lease-duration (" + lease + ")");
    }
    Duration longestRetry = retry.plusMillis((long) Math.ceil(retry.toMillis() * RETRY_JITTER));
    if (renew.compareTo(longestRetry) <= 0) {
      out.add(
          p
              + "retry-period ("
              + retry
              + ") must leave room for a retry within renew-deadline ("
              + renew
              + "): renew-deadline must exceed retry-period x "
              + (1 + RETRY_JITTER)
              + " ("
              + longestRetry
              + ")");
    }
    return out;
  }

  private static boolean positive(List<String> out, String key, Duration value) {
    if (value.toMillis() < 1) {
      out.add(key + " must be at least 1ms, not " + value);
      return false;
    }
    return true;
  }

  /** This instance's name in the Lease. */
  String identity() {
    return identity;
  }

  /** Whether this instance holds the Lease (and so reconciles). */
  boolean leading() {
    return leading.get();
  }

  /** The operator is being stopped: losing the Lease from now on is expected. */
  void stopping() {
    stopping.set(true);
  }

  private void startedLeading() {
    leading.set(true);
    LOG.infof(
        "%s leads: holds Lease %s and reconciles",
        identity, settings.leaseNamespace().map(ns -> ns + "/").orElse("") + settings.leaseName());
  }

  private void stoppedLeading() {
    leading.set(false);
    if (stopping.get()) {
      LOG.infof("%s stopped leading: the operator is stopping", identity);
    } else if (settings.exitOnLostLease()) {
      LOG.errorf(
          "%s lost Lease %s while running; exiting so that it restarts as a follower",
          identity, settings.leaseName());
      exit.accept(1);
    } else {
      LOG.warnf(
          "%s lost Lease %s while running; %s.exit-on-lost-lease=false, so it keeps running",
          identity, settings.leaseName(), LeaderElectionSettings.PREFIX);
    }
  }
}
