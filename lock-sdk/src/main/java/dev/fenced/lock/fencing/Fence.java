package dev.fenced.lock.fencing;

import dev.fenced.lock.LockHandle;
import java.util.Objects;

/**
 * What a fenced write presents to storage: the hold's fencing token and the identity of the hold
 * that carries it.
 *
 * <p>Storage accepts a write whose token is larger than the stored one, and a write with an
 * <em>equal</em> token only from the same holder. The token alone is enough only while tokens never
 * repeat; a failover that loses the backend's last counter increment, or a backend object that is
 * re-created, can hand the same token to a second holder, and then the holder identity is what
 * keeps the two apart.
 *
 * @param token the hold's fencing token, never negative
 * @param holder the hold's identity ({@link LockHandle#ownerId()}), never blank
 */
public record Fence(long token, String holder) {

  public Fence {
    if (token < 0) {
      throw new IllegalArgumentException("fence token must not be negative, was " + token);
    }
    Objects.requireNonNull(holder, "fence holder");
    if (holder.isBlank()) {
      throw new IllegalArgumentException("fence holder must not be blank");
    }
  }

  /** The fence of {@code hold}: its token and its owner identity. */
  public static Fence of(LockHandle hold) {
    return new Fence(hold.fencingToken(), hold.ownerId());
  }
}
