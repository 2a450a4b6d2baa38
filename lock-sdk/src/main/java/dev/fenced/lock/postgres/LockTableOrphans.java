package dev.fenced.lock.postgres;

import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows of {@code Postgres/LockTable} acquire attempts whose answer never came (the statement timed
 * out, or its connection closed). Such an attempt may have committed its row on the server: nobody
 * holds that lock, yet every other owner sees it busy until the row's lease runs out. Each such row
 * is deleted by its owner id (the attempt's own, never reused), again and again with a growing
 * pause, until a delete removes it or the lease it was written with has passed; after that an
 * acquire takes the expired row over anyway.
 *
 * <p>Why keep trying after a delete that found nothing: the attempt's statement may still be queued
 * on the server (waiting on the row of another transaction, say) and commit after the delete.
 */
final class LockTableOrphans {

  private static final Logger LOG = LoggerFactory.getLogger(LockTableOrphans.class);
  private static final long FIRST_PAUSE_MILLIS = 100;
  private static final long LONGEST_PAUSE_MILLIS = 1_000;

  /** One attempt's row: its lock name, its owner id, and until when (nanoTime) it can live. */
  record Orphan(String name, String owner, long expiresAtNanos) {}

  private final Function<Orphan, Future<Boolean>> delete;
  private final LeaseKeeper timer;
  private final BooleanSupplier closed;

  /**
   * @param delete deletes the row of an orphan's name and owner; true when a row was deleted
   * @param timer the service's timer, for the pauses between tries
   * @param closed whether the service closed (then nothing more is tried)
   */
  LockTableOrphans(
      Function<Orphan, Future<Boolean>> delete, LeaseKeeper timer, BooleanSupplier closed) {
    this.delete = delete;
    this.timer = timer;
    this.closed = closed;
  }

  /**
   * Deletes the row an attempt may have left: {@code name} owned by {@code owner}, written with a
   * lease of {@code leaseMillis} at {@code sentAtNanos}.
   */
  void sweep(String name, String owner, long sentAtNanos, long leaseMillis) {
    Orphan orphan =
        new Orphan(name, owner, sentAtNanos + TimeUnit.MILLISECONDS.toNanos(leaseMillis));
    tryDelete(orphan, FIRST_PAUSE_MILLIS);
  }

  private void tryDelete(Orphan orphan, long nextPauseMillis) {
    if (closed.getAsBoolean() || System.nanoTime() - orphan.expiresAtNanos() > 0) {
      return;
    }
    delete
        .apply(orphan)
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result()) {
                LOG.debug("deleted the row an unanswered attempt left on lock '{}'", orphan.name());
                return;
              }
              timer.schedule(
                  () -> tryDelete(orphan, Math.min(LONGEST_PAUSE_MILLIS, nextPauseMillis * 2)),
                  TimeUnit.MILLISECONDS.toNanos(nextPauseMillis));
            });
  }
}
