package dev.fenced.lock.postgres;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.AcquireLoop;
import dev.fenced.lock.support.AcquireLoop.Attempt;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Owners;
import dev.fenced.lock.support.Waiters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Postgres/LockTable}: a row per held lock in {@value #TABLE}, with an expiry the server's
 * {@code now()} judges.
 *
 * <ul>
 *   <li>Acquire is one statement: insert the row, or take over a row whose {@code expires_at} has
 *       passed, drawing the fence from the sequence in the same statement. When the lock is busy
 *       the same statement reports how long the current hold has left, so a waiter never sleeps
 *       past it.
 *   <li>Renew moves {@code expires_at} forward, only for this owner and only while unexpired.
 *   <li>Release deletes this owner's row and {@code NOTIFY}s {@value #CHANNEL} with the lock name,
 *       in the same statement. One listening connection per service wakes the head of its local
 *       queue of waiters of that name ({@link Waiters}); after it reconnects it wakes every head,
 *       since notifications may have been missed. Jittered, bounded back-off (and the expiry hint)
 *       covers what notifications do not: expired holds, and a listener that is down.
 *   <li>Release commits asynchronously ({@code synchronous_commit = off} for its own transaction):
 *       the row is gone for everyone at once, without waiting for the WAL flush. A release lost in
 *       a server crash costs availability, never safety: the row comes back with its expiry, and
 *       the lock is free again when that passes. Acquire and renew keep synchronous commits, since
 *       a hold or a longer lease the server forgets would be a second holder.
 * </ul>
 *
 * <p>Each busy attempt also draws (and discards) a sequence value: PostgreSQL evaluates the
 * inserted values before it finds the conflict. The gaps are harmless; the counter has 2^43 values.
 */
public final class PgLockTableLockService extends PostgresLockService {

  public static final String TABLE = "distributed_locks";
  public static final String CHANNEL = "fenced_lock_released";

  private static final Logger LOG = LoggerFactory.getLogger(PgLockTableLockService.class);
  private static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(1);

  private static final String ACQUIRE =
      "WITH taken AS ("
          + " INSERT INTO "
          + TABLE
          + " AS l (resource, owner, fence, expires_at)"
          + " VALUES ($1, $2, nextval('"
          + FENCE_SEQUENCE
          + "'), now() + $3::bigint * interval '1 millisecond')"
          + " ON CONFLICT (resource) DO UPDATE"
          + " SET owner = EXCLUDED.owner, fence = EXCLUDED.fence, expires_at = EXCLUDED.expires_at"
          + " WHERE l.expires_at < now()"
          + " RETURNING fence)"
          + " SELECT (SELECT fence FROM taken) AS fence,"
          + " (SELECT ceil(extract(epoch FROM (expires_at - now())) * 1000)::bigint"
          + " FROM "
          + TABLE
          + " WHERE resource = $1) AS busy_ms";

  private static final String RENEW =
      "UPDATE "
          + TABLE
          + " SET expires_at = now() + $3::bigint * interval '1 millisecond'"
          + " WHERE resource = $1 AND owner = $2 AND expires_at > now()";

  private static final String RELEASE =
      "WITH gone AS (DELETE FROM "
          + TABLE
          + " WHERE resource = $1 AND owner = $2 RETURNING resource)"
          + " SELECT pg_notify('"
          + CHANNEL
          + "', resource), set_config('synchronous_commit', 'off', true) FROM gone";

  private final Waiters waiters = new Waiters();
  private final PgSubscriber subscriber;
  private final Duration maxBackoff;
  private final CompletableFuture<Void> listening = new CompletableFuture<>();
  private final LongAdder attempts = new LongAdder();
  private final LockTableOrphans orphans;

  PgLockTableLockService(
      Vertx vertx, PostgresLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    this(vertx, config, settings, keeper, DEFAULT_MAX_BACKOFF);
  }

  /**
   * @param maxBackoff the longest pause between two attempts of a waiter; with notifications it
   *     only bounds how late a waiter notices a release whose notification was lost
   */
  PgLockTableLockService(
      Vertx vertx,
      PostgresLockConfig config,
      LockSettings settings,
      LeaseKeeper keeper,
      Duration maxBackoff) {
    super(vertx, config, settings, keeper);
    this.maxBackoff = maxBackoff;
    this.orphans = new LockTableOrphans(this::deleteOrphan, this.keeper, this::isClosed);
    this.subscriber = PgSubscriber.subscriber(vertx, config.connectOptions());
    subscriber.reconnectPolicy(retries -> Math.min(2_000L, 100L << Math.min(retries, 5)));
    subscriber
        .channel(CHANNEL)
        .subscribeHandler(
            v -> {
              listening.complete(null);
              // Releases while we were not listening went unheard.
              waiters.wakeAll();
            })
        .handler(waiters::wake);
    connectSubscriber();
  }

  private void connectSubscriber() {
    if (isClosed()) {
      return;
    }
    subscriber
        .connect()
        .onFailure(
            e -> {
              // The subscriber retries by itself only once it has been connected: until then,
              // start over from closed. Waiters fall back to back-off meanwhile.
              LOG.debug("{}: cannot LISTEN yet, retrying", backend(), e);
              subscriber.close();
              vertx.setTimer(1_000, t -> connectSubscriber());
            });
  }

  /** Completes once the listening connection first subscribed (for tests). */
  CompletableFuture<Void> listening() {
    return listening;
  }

  /** Stops listening for release notifications, for good (for tests of what works without). */
  void stopListening() {
    subscriber.close();
  }

  /** Acquire attempts made so far (for tests). */
  long attempts() {
    return attempts.sum();
  }

  /** The waiters' wake-up signals (for tests). */
  Waiters waiters() {
    return waiters;
  }

  @Override
  List<String> schema() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + TABLE
            + " (resource text PRIMARY KEY, owner text NOT NULL, fence bigint NOT NULL,"
            + " expires_at timestamptz NOT NULL)");
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    String owner = Owners.newOwnerId();
    return AcquireLoop.run(name, maxWait, keeper, waiters, maxBackoff, () -> attempt(name, owner));
  }

  private CompletionStage<Attempt<LockHandle>> attempt(String name, String owner) {
    attempts.increment();
    long sentAt = System.nanoTime();
    return request(
            conn -> conn.preparedQuery(ACQUIRE).execute(Tuple.of(name, owner, leaseMillis())))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              Long fence = row.getLong("fence");
              if (fence != null) {
                return Attempt.<LockHandle>acquired(
                    started(new Handle(name, token(fence), owner, sentAt)));
              }
              Long busyMs = row.getLong("busy_ms");
              return Attempt.<LockHandle>busy(
                  busyMs == null ? 0 : TimeUnit.MILLISECONDS.toNanos(Math.max(0, busyMs)));
            })
        .onFailure(
            e -> {
              // The server's own refusal rolled the statement back; anything else (no answer in
              // time, a closed connection) may have left a committed row nobody holds.
              if (!(e instanceof PgException)) {
                orphans.sweep(name, owner, sentAt, leaseMillis());
              }
            })
        .toCompletionStage();
  }

  /** Deletes the row an unanswered attempt may have left; true when there was one. */
  private Future<Boolean> deleteOrphan(LockTableOrphans.Orphan orphan) {
    return request(
            conn -> conn.preparedQuery(RELEASE).execute(Tuple.of(orphan.name(), orphan.owner())))
        .map(rows -> rows.size() == 1);
  }

  @Override
  protected void closeBackend() {
    subscriber.close();
    super.closeBackend();
  }

  private final class Handle extends AbstractLockHandle {

    Handle(String name, long token, String owner, long sentAt) {
      super(PgLockTableLockService.this.backend(), name, token, owner, settings, keeper, sentAt);
    }

    @Override
    protected CompletionStage<Boolean> renewOnBackend() {
      return request(
              conn -> conn.preparedQuery(RENEW).execute(Tuple.of(name(), ownerId(), leaseMillis())))
          .map(rows -> rows.rowCount() == 1)
          .toCompletionStage();
    }

    @Override
    protected CompletionStage<Boolean> releaseOnBackend() {
      return request(conn -> conn.preparedQuery(RELEASE).execute(Tuple.of(name(), ownerId())))
          .map(
              rows -> {
                // The DELETE has committed: this service's own next waiter tries now, without
                // waiting for the notification to come back over the listening connection.
                waiters.wake(name());
                return rows.size() == 1;
              })
          .toCompletionStage();
    }
  }
}
