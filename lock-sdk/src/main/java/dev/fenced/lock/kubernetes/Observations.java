package dev.fenced.lock.kubernetes;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When this client first saw each Lease record, on the local monotonic clock.
 *
 * <p>Expiry is judged as client-go's leader election judges it: a holder's record is live until
 * {@code leaseDurationSeconds} after this client saw it <em>change</em> (a new resourceVersion),
 * never by comparing the record's {@code renewTime} with the local wall clock, so clock skew
 * between machines cannot shorten anyone's lease. Any observation is later than the write that
 * produced it, so a holder's own deadline (counted from before its write) always ends first.
 */
final class Observations {

  private record Seen(String resourceVersion, long atNanos) {}

  private final ConcurrentHashMap<String, Seen> seen = new ConcurrentHashMap<>();

  /**
   * Records that {@code lease} was seen at {@code nowNanos} and returns when its current record was
   * first seen: {@code nowNanos} if the record changed since the last observation, else earlier.
   */
  long observe(Lease lease, long nowNanos) {
    String name = lease.getMetadata().getName();
    String version = lease.getMetadata().getResourceVersion();
    return seen.compute(
            name,
            (n, old) ->
                old != null && version != null && version.equals(old.resourceVersion())
                    ? old
                    : new Seen(version, nowNanos))
        .atNanos();
  }

  /** Drops what is known of a Lease that is free or gone, so the table holds only held Leases. */
  void forget(String leaseName) {
    seen.remove(leaseName);
  }
}
