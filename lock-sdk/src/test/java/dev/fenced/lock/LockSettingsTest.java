package dev.fenced.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.inprocess.InProcessLockService;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The clock-drift margin: its default, its checks, and the local deadline it moves. */
class LockSettingsTest {

  @Test
  void theDefaultDriftTakesOnePercentOffTheLease() {
    assertThat(LockSettings.DEFAULTS.clockDrift()).isEqualTo(LockSettings.DEFAULT_CLOCK_DRIFT);
    assertThat(LockSettings.DEFAULTS.clockDrift()).isEqualTo(0.01);
    assertThat(LockSettings.DEFAULTS.trustedLease()).isEqualTo(Duration.ofMillis(9_900));
    assertThat(LockSettings.DEFAULTS.withClockDrift(0).trustedLease())
        .isEqualTo(Duration.ofSeconds(10));
    // The withers keep the drift.
    assertThat(
            LockSettings.DEFAULTS
                .withClockDrift(0.2)
                .withTiming(Duration.ofSeconds(5), Duration.ofSeconds(1))
                .trustedLease())
        .isEqualTo(Duration.ofSeconds(4));
  }

  @Test
  void aDriftOutOfRangeIsRefusedNamingTheField() {
    for (double bad : new double[] {-0.01, 0.5, 1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> LockSettings.DEFAULTS.withClockDrift(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("clockDrift");
    }
  }

  @Test
  void theRenewIntervalMustFitInsideTheTrustedLease() {
    // 10 s lease, 10% drift: the holder trusts 9 s, so renewing every 9.5 s would always be late.
    assertThatThrownBy(
            () ->
                LockSettings.DEFAULTS
                    .withTiming(Duration.ofSeconds(10), Duration.ofMillis(9_500))
                    .withClockDrift(0.1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renewInterval")
        .hasMessageContaining("clockDrift");
  }

  @Test
  void theLocalDeadlineEndsTheMarginBeforeTheLease() throws Exception {
    Duration lease = Duration.ofSeconds(4);
    LockSettings settings =
        LockSettings.DEFAULTS
            .withTiming(lease, Duration.ofSeconds(1))
            .withMaxWait(Duration.ofSeconds(1))
            .withClockDrift(0.25);
    try (InProcessLockService service = new InProcessLockService(settings)) {
      Instant before = Instant.now();
      LockHandle hold = service.acquireBlocking("drift", Duration.ofSeconds(1));
      Instant after = Instant.now();

      // Trusted for 3 s from the acquire, not for the 4 s lease.
      assertThat(hold.expiresAt())
          .isAfterOrEqualTo(before.plusSeconds(3).minusMillis(50))
          .isBeforeOrEqualTo(after.plusSeconds(3).plusMillis(50));
      LockService.await(hold.release());
    }
  }
}
