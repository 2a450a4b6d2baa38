package dev.fenced.lock.ledger;

import java.util.Objects;

/**
 * What identifies the incarnation of a backend that a lock family's fencing counters live in: it
 * changes when the backend may have forgotten or repeated counter values (a failover, a restart
 * without persistence, a restore, a re-created base path or Lease), so whoever sees it change
 * raises the fencing epoch before new holds are granted there.
 *
 * @param id compared for equality; one line, no credential (e.g. {@code redis run_id=...
 *     marker=...})
 * @param progress a counter the backend only ever raises while it keeps its data (the etcd
 *     revision), or -1 where the backend has none; seeing it go back is an incident too
 * @param detail for people: what the id is made of, in words
 */
public record Incarnation(String id, long progress, String detail) {

  public Incarnation {
    Objects.requireNonNull(id, "id");
    if (id.isBlank() || id.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("incarnation id must be one non-blank line, was " + id);
    }
    Objects.requireNonNull(detail, "detail");
  }

  /** An incarnation without a progress counter. */
  public static Incarnation of(String id, String detail) {
    return new Incarnation(id, -1, detail);
  }

  /** Whether {@code now} is no longer this incarnation: another id, or progress that went back. */
  public boolean replacedBy(Incarnation now) {
    return !id.equals(now.id) || (progress >= 0 && now.progress >= 0 && now.progress < progress);
  }

  @Override
  public String toString() {
    return progress < 0 ? id : id + " (progress " + progress + ")";
  }
}
