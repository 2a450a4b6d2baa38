package dev.fenced.lock;

/**
 * Fencing tokens as {@code epoch << COUNTER_BITS | counter}.
 *
 * <p>The counter is each backend's own monotonic number (Redis {@code INCR}, a PostgreSQL sequence,
 * the etcd revision, the ZooKeeper sequence, the Lease's transitions). The epoch is the
 * LockPolicy's, raised whenever the policy moves a lock family to another backend, so a token from
 * the new backend is larger than every token of the old one even though the counters restart.
 */
public final class FencingTokens {

  /** Bits for the backend counter: 8.8 * 10^12 holds per epoch. */
  public static final int COUNTER_BITS = 43;

  public static final long MAX_COUNTER = (1L << COUNTER_BITS) - 1;
  public static final long MAX_EPOCH = (1L << (63 - COUNTER_BITS)) - 1;

  private FencingTokens() {}

  public static long compose(long epoch, long counter) {
    checkEpoch(epoch);
    if (counter < 0 || counter > MAX_COUNTER) {
      throw new IllegalStateException(
          "backend fence counter " + counter + " is outside 0.." + MAX_COUNTER);
    }
    return (epoch << COUNTER_BITS) | counter;
  }

  public static long epoch(long token) {
    return token >>> COUNTER_BITS;
  }

  public static long counter(long token) {
    return token & MAX_COUNTER;
  }

  static void checkEpoch(long epoch) {
    if (epoch < 0 || epoch > MAX_EPOCH) {
      throw new IllegalArgumentException("epoch must be within 0.." + MAX_EPOCH + ", was " + epoch);
    }
  }
}
