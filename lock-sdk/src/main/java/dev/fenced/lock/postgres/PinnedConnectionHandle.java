package dev.fenced.lock.postgres;

import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hold that lives in one PostgreSQL session (RowLock's transaction, Advisory's session lock): the
 * server frees it when the connection ends, so the connection ending is the loss signal.
 *
 * <p>Renewal is a heartbeat on the connection, which also restarts the server-side idle timeout
 * that ends the session of a holder that stopped (paused, partitioned) after one lease. The
 * connection goes back to the pool only when the hold ended cleanly on the server; otherwise it is
 * discarded (its socket closed, which ends the session), so nothing the hold left behind can be
 * inherited by the next borrower. Every statement on it is bounded by the request timeout.
 */
abstract class PinnedConnectionHandle extends AbstractLockHandle {

  private static final Logger LOG = LoggerFactory.getLogger(PinnedConnectionHandle.class);

  private final SqlConnection conn;
  private final int backendPid;
  private final PostgresLockService service;
  private volatile boolean endedCleanly;

  PinnedConnectionHandle(
      String backend,
      String name,
      long token,
      String owner,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAt,
      SqlConnection conn,
      int backendPid,
      PostgresLockService service) {
    super(backend, name, token, owner, settings, keeper, sentAt);
    this.conn = conn;
    this.backendPid = backendPid;
    this.service = service;
  }

  /** A statement on this hold's connection, bounded by the service's request timeout. */
  final <T> Future<T> bounded(Future<T> statement) {
    return service.bounded(0, statement);
  }

  /** Reports the loss as soon as the connection closes; call once the handle is started. */
  final void watchConnection() {
    // The server's FATAL before it closes the session arrives here; the close handler reports it.
    conn.exceptionHandler(e -> LOG.debug("connection of lock '{}' failed", name(), e));
    conn.closeHandler(v -> sessionEnded("the connection holding the lock closed"));
  }

  final SqlConnection conn() {
    return conn;
  }

  /** The server process behind this hold's connection ({@code pg_backend_pid()}). */
  public final int backendPid() {
    return backendPid;
  }

  /** One statement that keeps the session busy enough and tells whether the hold is still ours. */
  abstract Future<Boolean> heartbeat();

  /** Ends the hold on the server; completes with whether this hold was still in place. */
  abstract Future<Boolean> endOnServer();

  @Override
  protected final CompletionStage<Boolean> renewOnBackend() {
    return heartbeat()
        .onFailure(
            e -> {
              if (PostgresLockService.sessionEnded(e)) {
                sessionEnded("the heartbeat found the session gone: " + e.getMessage());
              }
            })
        .toCompletionStage();
  }

  @Override
  protected final CompletionStage<Boolean> releaseOnBackend() {
    return endOnServer()
        .onSuccess(v -> endedCleanly = true)
        .recover(
            e ->
                PostgresLockService.sessionEnded(e)
                    // The server already freed whatever the session held.
                    ? Future.succeededFuture(false)
                    : Future.failedFuture(e))
        .toCompletionStage();
  }

  @Override
  protected final void onEnded() {
    if (endedCleanly) {
      conn.close();
    } else {
      // Unsure what the session still holds: end it rather than hand it to the next borrower. No
      // statement that might go unanswered: the socket closes, and the server ends the session
      // (and its locks) when it notices, or at its idle timeout (the lease) if it never does.
      PgConnections.discard(conn);
    }
  }

  private void sessionEnded(String detail) {
    if (isActive()) {
      markLost(LockLoss.Reason.SESSION_ENDED, detail);
    }
  }
}
