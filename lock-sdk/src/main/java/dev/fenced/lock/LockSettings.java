package dev.fenced.lock;

import java.time.Duration;
import java.util.Objects;

/**
 * Timing and fencing settings shared by every lock of a {@link LockService}; the Java face of a
 * LockPolicy's {@code leaseDuration}, {@code renewInterval}, {@code maxWait} and {@code fencing}.
 *
 * @param leaseDuration how long a hold lasts without renewal; the backend's clock judges it; at
 *     least {@link #MIN_LEASE_DURATION}
 * @param renewInterval how often a live holder renews; shorter than the lease and at least {@link
 *     #MIN_RENEW_INTERVAL}
 * @param maxWait the longest any acquire may wait
 * @param fencing whether the policy requires fencing tokens to be checked by storage
 * @param epoch the policy epoch, placed in the high bits of every token (see {@link FencingTokens})
 * @param clockDrift how much faster the backend's clock may run than the holder's, as a fraction
 *     (0.01 = 1%): the holder gives a hold up {@code clockDrift × leaseDuration} before the lease
 *     ends by its own clock, so that {@link LockHandle#lost()} fires before the backend, judging
 *     expiry by its own clock, can hand the lock to someone else. Default {@value
 *     #DEFAULT_CLOCK_DRIFT}.
 */
public record LockSettings(
    Duration leaseDuration,
    Duration renewInterval,
    Duration maxWait,
    Fencing fencing,
    long epoch,
    double clockDrift) {

  /**
   * The default {@link #clockDrift}: 1%, the factor the Redlock algorithm uses. Quartz clocks keep
   * within 0.01%, and NTP slews by at most 0.05%; the rest is room for a virtual machine's clock.
   */
  public static final double DEFAULT_CLOCK_DRIFT = 0.01;

  /** Whether storage must check the token. */
  public enum Fencing {
    REQUIRED,
    OPTIONAL
  }

  /**
   * The shortest renewal interval: one round trip per hold more often than this is a busy loop, not
   * a lease.
   */
  public static final Duration MIN_RENEW_INTERVAL = Duration.ofMillis(10);

  /**
   * The shortest lease: a lease must outlast at least one renewal, and backends that count leases
   * in milliseconds (Redis {@code PX}) or coarser need something to count.
   */
  public static final Duration MIN_LEASE_DURATION = Duration.ofMillis(20);

  public static final LockSettings DEFAULTS =
      new LockSettings(
          Duration.ofSeconds(10),
          Duration.ofSeconds(3),
          Duration.ofSeconds(2),
          Fencing.REQUIRED,
          0);

  public LockSettings {
    requireAtLeast("leaseDuration", leaseDuration, MIN_LEASE_DURATION);
    requireAtLeast("renewInterval", renewInterval, MIN_RENEW_INTERVAL);
    Objects.requireNonNull(maxWait, "maxWait must be set");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
    }
    if (renewInterval.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException(
          "renewInterval ("
              + renewInterval
              + ") must be shorter than leaseDuration ("
              + leaseDuration
              + ")");
    }
    Objects.requireNonNull(fencing, "fencing must be set");
    FencingTokens.checkEpoch(epoch);
    if (!(clockDrift >= 0 && clockDrift < 0.5)) {
      throw new IllegalArgumentException(
          "clockDrift must be at least 0 and below 0.5, was " + clockDrift);
    }
    Duration trusted = trustedLease(leaseDuration, clockDrift);
    if (renewInterval.compareTo(trusted) >= 0) {
      throw new IllegalArgumentException(
          "renewInterval ("
              + renewInterval
              + ") must be shorter than leaseDuration less the clockDrift margin ("
              + trusted
              + ")");
    }
  }

  /** The settings with the default {@link #clockDrift}. */
  public LockSettings(
      Duration leaseDuration,
      Duration renewInterval,
      Duration maxWait,
      Fencing fencing,
      long epoch) {
    this(leaseDuration, renewInterval, maxWait, fencing, epoch, DEFAULT_CLOCK_DRIFT);
  }

  /**
   * How long after sending the request that won or renewed a hold the holder trusts it, by its own
   * monotonic clock: the lease less the {@link #clockDrift} margin. The backend keeps the hold for
   * the whole lease from when the request <em>arrived</em>, by its own clock.
   */
  public Duration trustedLease() {
    return trustedLease(leaseDuration, clockDrift);
  }

  private static Duration trustedLease(Duration lease, double drift) {
    return lease.minusNanos((long) Math.ceil(lease.toNanos() * drift));
  }

  public LockSettings withLeaseDuration(Duration value) {
    return new LockSettings(value, renewInterval, maxWait, fencing, epoch, clockDrift);
  }

  public LockSettings withRenewInterval(Duration value) {
    return new LockSettings(leaseDuration, value, maxWait, fencing, epoch, clockDrift);
  }

  public LockSettings withTiming(Duration lease, Duration renew) {
    return new LockSettings(lease, renew, maxWait, fencing, epoch, clockDrift);
  }

  public LockSettings withMaxWait(Duration value) {
    return new LockSettings(leaseDuration, renewInterval, value, fencing, epoch, clockDrift);
  }

  public LockSettings withFencing(Fencing value) {
    return new LockSettings(leaseDuration, renewInterval, maxWait, value, epoch, clockDrift);
  }

  public LockSettings withEpoch(long value) {
    return new LockSettings(leaseDuration, renewInterval, maxWait, fencing, value, clockDrift);
  }

  public LockSettings withClockDrift(double value) {
    return new LockSettings(leaseDuration, renewInterval, maxWait, fencing, epoch, value);
  }

  /**
   * Checks an acquire's arguments against these settings.
   *
   * @throws IllegalArgumentException naming the argument that is wrong
   */
  public void checkAcquire(String name, Duration wait) {
    LockNames.check(name);
    Objects.requireNonNull(wait, "maxWait must be set");
    if (wait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + wait);
    }
    if (wait.compareTo(maxWait) > 0) {
      throw new IllegalArgumentException(
          "maxWait (" + wait + ") is longer than the policy allows (" + maxWait + ")");
    }
  }

  private static void requireAtLeast(String field, Duration value, Duration minimum) {
    Objects.requireNonNull(value, field + " must be set");
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be positive, was " + value);
    }
    if (value.compareTo(minimum) < 0) {
      throw new IllegalArgumentException(
          field + " must be at least " + minimum.toMillis() + "ms, was " + value);
    }
  }
}
