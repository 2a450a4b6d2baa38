package dev.fenced.lock.postgres;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/** A {@code Postgres/Advisory} hold: a session-level advisory lock on a pinned connection. */
final class PgAdvisoryLockHandle extends PinnedConnectionHandle {

  /** Whether this session still holds the name's advisory lock (bigint keys have objsubid 1). */
  private static final String STILL_HELD =
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
          + " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
          + " AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0))";

  private static final String UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

  PgAdvisoryLockHandle(
      String backend,
      String name,
      long token,
      String owner,
      LockSettings settings,
      LeaseKeeper keeper,
      long sentAt,
      SqlConnection conn,
      int backendPid,
      PgAdvisoryLockService service) {
    super(backend, name, token, owner, settings, keeper, sentAt, conn, backendPid, service);
  }

  @Override
  Future<Boolean> heartbeat() {
    return bounded(conn().preparedQuery(STILL_HELD).execute(Tuple.of(name())))
        .map(rows -> rows.iterator().next().getBoolean(0));
  }

  @Override
  Future<Boolean> endOnServer() {
    return bounded(conn().preparedQuery(UNLOCK).execute(Tuple.of(name())))
        .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean(0)))
        .compose(unlocked -> bounded(PgAdvisoryLockService.resetSession(conn())).map(unlocked));
  }
}
