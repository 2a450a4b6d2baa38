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
 */
public record LockSettings(
    Duration leaseDuration, Duration renewInterval, Duration maxWait, Fencing fencing, long epoch) {

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
  }

  public LockSettings withLeaseDuration(Duration value) {
    return new LockSettings(value, renewInterval, maxWait, fencing, epoch);
  }

  public LockSettings withRenewInterval(Duration value) {
    return new LockSettings(leaseDuration, value, maxWait, fencing, epoch);
  }

  public LockSettings withTiming(Duration lease, Duration renew) {
    return new LockSettings(lease, renew, maxWait, fencing, epoch);
  }

  public LockSettings withMaxWait(Duration value) {
    return new LockSettings(leaseDuration, renewInterval, value, fencing, epoch);
  }

  public LockSettings withFencing(Fencing value) {
    return new LockSettings(leaseDuration, renewInterval, maxWait, value, epoch);
  }

  public LockSettings withEpoch(long value) {
    return new LockSettings(leaseDuration, renewInterval, maxWait, fencing, value);
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
