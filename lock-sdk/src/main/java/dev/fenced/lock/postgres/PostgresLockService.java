package dev.fenced.lock.postgres;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.Holds;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Locks on PostgreSQL through the Vert.x reactive client, in one of three {@link PostgresMode}s.
 *
 * <p>Every mode takes its fencing tokens from one sequence, {@value #FENCE_SEQUENCE}: sequences are
 * not transactional and never go back, so a later hold always gets a larger number, across
 * processes and client restarts. The number is drawn only once the hold is won (in the winning
 * statement for LockTable, after the lock is granted for RowLock and Advisory).
 *
 * <p>The caller owns the {@link Vertx} instance; the service owns its own connection {@link Pool}
 * (and, for LockTable, one listening connection) and closes them in {@link #close()}.
 */
public abstract sealed class PostgresLockService extends AbstractLockService
    permits PgLockTableLockService, PgRowLockService, PgAdvisoryLockService {

  /** The sequence every mode draws fences from. */
  public static final String FENCE_SEQUENCE = "fenced_fence_seq";

  /** Serialises concurrent provisioning (two-int advisory key, apart from Advisory-mode keys). */
  private static final String PROVISION_LOCK = "SELECT pg_advisory_xact_lock(1717920581, 1)";

  protected final Vertx vertx;
  protected final PostgresLockConfig config;
  protected final Pool pool;
  private final long requestTimeoutMillis;

  PostgresLockService(
      Vertx vertx, PostgresLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    super(settings, keeper);
    this.vertx = Objects.requireNonNull(vertx, "vertx must be set");
    this.config = Objects.requireNonNull(config, "config must be set");
    this.requestTimeoutMillis = config.requestTimeout().toMillis();
    this.pool =
        PgBuilder.pool()
            .with(
                new PoolOptions()
                    .setMaxSize(config.maxPoolSize())
                    // Waiting for a pooled connection is bounded like a request.
                    .setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, requestTimeoutMillis))
                    .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
            .connectingTo(config.connectOptions())
            .using(vertx)
            .build();
  }

  /**
   * This backend's call: {@code work} on a pooled connection, bounded by the request timeout (plus
   * {@code waitMillis} the work is asked to wait on the server, such as a lock wait). The
   * connection goes back to the pool afterwards, unless the work timed out: then it is discarded
   * ({@link PgConnections#discard}).
   */
  final <T> Future<T> request(long waitMillis, Function<SqlConnection, Future<T>> work) {
    return pool.getConnection()
        .compose(
            conn -> {
              Future<T> started;
              try {
                started = work.apply(conn);
              } catch (RuntimeException e) {
                started = Future.failedFuture(e);
              }
              return bounded(waitMillis, started)
                  .onComplete(
                      ar -> {
                        if (ar.failed() && PgConnections.timedOut(ar.cause())) {
                          PgConnections.discard(conn);
                        } else {
                          conn.close();
                        }
                      });
            });
  }

  /**
   * Gives back the connection of an acquire that did not become a hold, after {@code cleanup} (a
   * rollback, a session reset). One that stopped answering, or whose cleanup failed, is discarded
   * instead: nobody can tell what its session still holds.
   */
  final void giveBack(
      SqlConnection conn, Throwable why, Function<SqlConnection, Future<?>> cleanup) {
    if (PgConnections.timedOut(why)) {
      PgConnections.discard(conn);
      return;
    }
    bounded(0, cleanup.apply(conn))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                PgConnections.discard(conn);
              } else {
                conn.close();
              }
            });
  }

  /** {@link #request(long, Function)} without a server-side wait. */
  final <T> Future<T> request(Function<SqlConnection, Future<T>> work) {
    return request(0, work);
  }

  /**
   * A statement bounded by the request timeout plus {@code waitMillis}: it fails with a {@code
   * TimeoutException} when unanswered. For statements on a connection a hold keeps; the caller
   * decides what becomes of the connection.
   */
  final <T> Future<T> bounded(long waitMillis, Future<T> statement) {
    return PgConnections.within(vertx, statement, requestTimeoutMillis + waitMillis);
  }

  /** {@link #request(Function)} in one transaction: committed when {@code work} succeeds. */
  final <T> Future<T> inTransaction(Function<SqlConnection, Future<T>> work) {
    return request(
        conn ->
            conn.begin()
                .compose(
                    tx ->
                        work.apply(conn)
                            .compose(
                                value -> tx.commit().map(value),
                                error ->
                                    tx.rollback().transform(ar -> Future.failedFuture(error)))));
  }

  /**
   * A service for {@code config.mode()}.
   *
   * @param vertx the caller's Vert.x; the service never closes it
   * @param keeper the timer for renewals and back-off; null to give the service its own
   */
  public static PostgresLockService create(
      Vertx vertx, PostgresLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    return switch (config.mode()) {
      case LockTable -> new PgLockTableLockService(vertx, config, settings, keeper);
      case RowLock -> new PgRowLockService(vertx, config, settings, keeper);
      case Advisory -> new PgAdvisoryLockService(vertx, config, settings, keeper);
    };
  }

  public static PostgresLockService create(
      Vertx vertx, PostgresLockConfig config, LockSettings settings) {
    return create(vertx, config, settings, null);
  }

  public final PostgresMode mode() {
    return config.mode();
  }

  @Override
  public final String backend() {
    return config.mode().backend();
  }

  /** The tables this mode needs, each created idempotently. */
  abstract List<String> schema();

  /** Refuses a server this mode cannot work with; {@code versionNum} is server_version_num. */
  void checkServer(int versionNum, String version) {}

  @Override
  public final CompletionStage<Void> provision() {
    return typed(
        () ->
            createSchema()
                .recover(
                    e -> {
                      // CREATE ... IF NOT EXISTS can still collide in the catalogs when another
                      // client (one that does not take our provisioning lock) creates the same
                      // object at the same moment; the second try then finds it.
                      String state = sqlState(e);
                      return "23505".equals(state) || "42P07".equals(state)
                          ? createSchema()
                          : Future.failedFuture(e);
                    })
                .compose(
                    v ->
                        request(
                            conn ->
                                conn.query(
                                        "SELECT current_setting('server_version_num')::int,"
                                            + " current_setting('server_version')")
                                    .execute()))
                .<Void>map(
                    rows -> {
                      Row row = rows.iterator().next();
                      checkServer(row.getInteger(0), row.getString(1));
                      return null;
                    })
                .toCompletionStage());
  }

  private Future<Void> createSchema() {
    return inTransaction(
        conn -> {
          // "already exists, skipping" notices are the normal case here, not news.
          Future<?> chain =
              conn.query("SET LOCAL client_min_messages = warning; " + PROVISION_LOCK).execute();
          chain =
              chain.compose(
                  r ->
                      conn.query(
                              "CREATE SEQUENCE IF NOT EXISTS "
                                  + FENCE_SEQUENCE
                                  + " AS bigint MINVALUE 1 MAXVALUE "
                                  + dev.fenced.lock.FencingTokens.MAX_COUNTER
                                  + " NO CYCLE")
                          .execute());
          chain = chain.compose(r -> conn.query(PgLedgerStore.DDL).execute());
          for (String ddl : schema()) {
            chain = chain.compose(r -> conn.query(ddl).execute());
          }
          return chain.mapEmpty();
        });
  }

  /**
   * Drops this mode's lock table unless another policy uses it (the caller says, from the ledger
   * and the policies it knows). The ledger and the sequence {@value #FENCE_SEQUENCE} stay: the
   * ledger keeps the epochs, every mode draws fences from the sequence, and dropping either would
   * let a later hold get a token already issued.
   *
   * <p>Never while a hold is open, and never by waiting for one: the table is locked with {@code
   * NOWAIT} (a {@code DROP} that waited for an open RowLock transaction would queue every acquire
   * behind it), and a lock table with an unexpired row is kept too (its holder still believes it
   * holds). Then the call fails, naming the table, so the caller tries again later.
   */
  @Override
  public final CompletionStage<Boolean> deprovision(PolicyRecord owner, boolean sharedWithOthers) {
    String table =
        switch (config.mode()) {
          case LockTable -> PgLockTableLockService.TABLE;
          case RowLock -> PgRowLockService.TABLE;
          case Advisory -> null;
        };
    String liveHolds =
        switch (config.mode()) {
          case LockTable -> "SELECT count(*) FROM " + table + " WHERE expires_at > now()";
          case RowLock, Advisory -> null; // an open RowLock hold is a lock on the table itself
        };
    if (sharedWithOthers || table == null) {
      return CompletableFuture.completedFuture(false);
    }
    return typed(
        () ->
            inTransaction(
                    conn ->
                        conn.query("SET LOCAL client_min_messages = warning; " + PROVISION_LOCK)
                            .execute()
                            .compose(
                                r ->
                                    conn.query("SELECT to_regclass('" + table + "') IS NOT NULL")
                                        .execute())
                            .compose(
                                exists ->
                                    Boolean.TRUE.equals(exists.iterator().next().getBoolean(0))
                                        ? dropUnused(conn, table, liveHolds)
                                        : Future.succeededFuture(false)))
                .toCompletionStage());
  }

  private Future<Boolean> dropUnused(SqlConnection conn, String table, String liveHolds) {
    Future<Long> held =
        conn.query("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE NOWAIT")
            .execute()
            .recover(
                e ->
                    Future.failedFuture(
                        "55P03".equals(sqlState(e))
                            ? inUse(table, "open holds or acquires use it")
                            : e))
            .compose(
                r ->
                    liveHolds == null
                        ? Future.succeededFuture(0L)
                        : conn.query(liveHolds)
                            .execute()
                            .map(rows -> rows.iterator().next().getLong(0)));
    return held.compose(
        count ->
            count > 0
                ? Future.failedFuture(inUse(table, count + " unexpired holds are in it"))
                : conn.query("DROP TABLE " + table).execute().map(true));
  }

  private static IllegalStateException inUse(String table, String why) {
    return new IllegalStateException(
        table + " is in use (" + why + "); it is dropped once no hold is open, try again then");
  }

  /** The ledger in table {@code fenced_ledger}; see {@link PgLedgerStore}. */
  @Override
  public final Optional<BackendLedger> ledger() {
    return Optional.of(new BackendLedger(new PgLedgerStore(this)));
  }

  @Override
  public final CompletionStage<BackendProbe> probe() {
    long start = System.nanoTime();
    try {
      return request(
              conn ->
                  conn.query(
                          "SELECT current_setting('server_version'),"
                              + " current_setting('server_version_num')::int,"
                              + " current_setting('fsync'), current_setting('synchronous_commit')")
                      .execute())
          .map(
              rows -> {
                Duration latency = Duration.ofNanos(System.nanoTime() - start);
                Row row = rows.iterator().next();
                boolean durable = "on".equals(row.getString(2)) && !"off".equals(row.getString(3));
                String detail =
                    "PostgreSQL "
                        + row.getString(0)
                        + "; fences from sequence "
                        + FENCE_SEQUENCE
                        + (durable
                            ? ""
                            : " (fsync or synchronous_commit is off: after a server crash the"
                                + " sequence may hand out a fence again)");
                try {
                  checkServer(row.getInteger(1), row.getString(0));
                } catch (LockException e) {
                  detail += "; " + e.getMessage();
                }
                return BackendProbe.up(backend(), latency, durable, detail);
              })
          .otherwise(e -> BackendProbe.down(backend(), e))
          .toCompletionStage();
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(BackendProbe.down(backend(), e));
    }
  }

  @Override
  protected void closeBackend() {
    pool.close();
  }

  /** A lock wait the server ended ({@code lock_timeout}, SQLSTATE 55P03) is a timeout. */
  @Override
  protected LockException classify(String lockName, Duration maxWait, Throwable cause) {
    return maxWait != null && "55P03".equals(sqlState(cause))
        ? new LockTimeoutException(lockName, maxWait)
        : null;
  }

  /**
   * The stage of an acquire that runs as a Vert.x future: its hold is handed over with {@link
   * Holds#handOver}, so one the caller stopped waiting for is released.
   */
  static CompletableFuture<LockHandle> handedOver(Future<LockHandle> acquired) {
    CompletableFuture<LockHandle> result = new CompletableFuture<>();
    acquired.onComplete(
        ar -> {
          if (ar.succeeded()) {
            Holds.handOver(result, ar.result());
          } else {
            result.completeExceptionally(ar.cause());
          }
        });
    return result;
  }

  static String sqlState(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    return cause instanceof PgException pg ? pg.getSqlState() : null;
  }

  /**
   * Whether a failure means the connection (the session) is gone: closed under us, or ended by the
   * server (administrator command, idle timeouts, shutdown).
   */
  static boolean sessionEnded(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    if (cause instanceof ClosedConnectionException) {
      return true;
    }
    if (cause instanceof java.net.SocketException) {
      // Reset or broken: the server's end of the session is gone, and with it what it held.
      return true;
    }
    String state = sqlState(cause);
    if (state != null) {
      return state.startsWith("57P") || state.startsWith("08") || "25P03".equals(state);
    }
    String message = cause.getMessage();
    return message != null && message.toLowerCase(java.util.Locale.ROOT).contains("closed");
  }

  /** Whole milliseconds, rounded up, at least 1 (0 would mean "no timeout" to PostgreSQL). */
  static long positiveMillis(long nanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos + 999_999));
  }

  final long leaseMillis() {
    return positiveMillis(settings.leaseDuration().toNanos());
  }
}
