package dev.fenced.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Settings checked up front with the key named; what a lost Lease does, and when it does not. */
class OperatorLeadershipTest {

  record Settings(
      String leaseName,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod,
      boolean exitOnLostLease)
      implements LeaderElectionSettings {

    static Settings defaults() {
      return new Settings(
          "fenced-lock-operator",
          Duration.ofSeconds(15),
          Duration.ofSeconds(10),
          Duration.ofSeconds(2),
          true);
    }

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public Optional<String> leaseNamespace() {
      return Optional.empty();
    }

    @Override
    public Optional<String> identity() {
      return Optional.of("pod-a");
    }
  }

  private final List<Integer> exits = new ArrayList<>();

  private LeaderCallbacks callbacks(OperatorLeadership leadership) {
    return leadership.configuration().getLeaderCallbacks().orElseThrow();
  }

  @Test
  void defaultsBuildTheJosdkConfiguration() {
    LeaderElectionConfiguration config =
        new OperatorLeadership(Settings.defaults(), Optional.empty(), exits::add).configuration();
    assertThat(config.getLeaseName()).isEqualTo("fenced-lock-operator");
    assertThat(config.getLeaseNamespace()).isEmpty();
    assertThat(config.getIdentity()).contains("pod-a");
    assertThat(config.getLeaseDuration()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.getRenewDeadline()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.getRetryPeriod()).isEqualTo(Duration.ofSeconds(2));
    // JOSDK's own exit is off; OperatorLeadership decides (see stoppingIsNotLosing).
    assertThat(config.isExitOnStopLeading()).isFalse();
  }

  @Test
  void anExplicitIdentityWinsOverTheSettings() {
    OperatorLeadership leadership =
        new OperatorLeadership(Settings.defaults(), Optional.of("pod-b"), exits::add);
    assertThat(leadership.identity()).isEqualTo("pod-b");
    assertThat(leadership.configuration().getIdentity()).contains("pod-b");
  }

  @Test
  void everyBadSettingIsNamed() {
    var s = Settings.defaults();
    assertThat(
            OperatorLeadership.problems(
                new Settings(" ", s.leaseDuration(), s.renewDeadline(), s.retryPeriod(), true)))
        .containsExactly("fenced.operator.leader-election.lease-name must not be blank");
    assertThat(
            OperatorLeadership.problems(
                new Settings(
                    "x", Duration.ofSeconds(10), Duration.ofSeconds(10), s.retryPeriod(), true)))
        .containsExactly(
            "fenced.operator.leader-election.renew-deadline (PT10S) must be shorter than"
                + " lease-duration (PT10S)");
    assertThat(
            OperatorLeadership.problems(
                new Settings(
                    "x",
                    Duration.ofSeconds(15),
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(2),
                    true)))
        .singleElement()
        .asString()
        .startsWith("fenced.operator.leader-election.retry-period (PT2S) must leave room")
        .contains("(PT4.4S)");
    assertThat(
            OperatorLeadership.problems(
                new Settings("x", Duration.ZERO, Duration.ofSeconds(-1), s.retryPeriod(), true)))
        .containsExactly(
            "fenced.operator.leader-election.lease-duration must be at least 1ms, not PT0S",
            "fenced.operator.leader-election.renew-deadline must be at least 1ms, not PT-1S");
    assertThat(OperatorLeadership.problems(s)).isEmpty();

    var bad =
        new Settings("x", Duration.ofSeconds(5), Duration.ofSeconds(10), s.retryPeriod(), true);
    assertThatThrownBy(
            () -> new OperatorLeadership(bad, Optional.empty(), exits::add).configuration())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renew-deadline (PT10S) must be shorter than lease-duration (PT5S)");
  }

  @Test
  void aLeaderThatLosesTheLeaseWhileRunningExits() {
    OperatorLeadership leadership =
        new OperatorLeadership(Settings.defaults(), Optional.empty(), exits::add);
    LeaderCallbacks callbacks = callbacks(leadership);
    assertThat(leadership.leading()).isFalse();
    callbacks.onStartLeading();
    assertThat(leadership.leading()).isTrue();
    assertThat(exits).isEmpty();
    callbacks.onStopLeading();
    assertThat(leadership.leading()).isFalse();
    assertThat(exits).containsExactly(1);
  }

  @Test
  void stoppingIsNotLosing() {
    // Stopping the operator cancels the election, which calls onStopLeading: exiting from there
    // (a JVM shutdown hook) would deadlock, and is not wanted.
    OperatorLeadership leadership =
        new OperatorLeadership(Settings.defaults(), Optional.empty(), exits::add);
    LeaderCallbacks callbacks = callbacks(leadership);
    callbacks.onStartLeading();
    leadership.stopping();
    callbacks.onStopLeading();
    assertThat(leadership.leading()).isFalse();
    assertThat(exits).isEmpty();
  }

  @Test
  void exitOnLostLeaseCanBeTurnedOff() {
    var s = Settings.defaults();
    var noExit =
        new Settings(s.leaseName(), s.leaseDuration(), s.renewDeadline(), s.retryPeriod(), false);
    OperatorLeadership leadership = new OperatorLeadership(noExit, Optional.empty(), exits::add);
    LeaderCallbacks callbacks = callbacks(leadership);
    callbacks.onStartLeading();
    callbacks.onStopLeading();
    assertThat(leadership.leading()).isFalse();
    assertThat(exits).isEmpty();
  }
}
