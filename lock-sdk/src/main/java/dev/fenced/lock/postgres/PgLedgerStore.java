package dev.fenced.lock.postgres;

import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.CompletionStage;

/**
 * The PostgreSQL ledger: the one row of table {@value #TABLE} (created by provisioning), replaced
 * by an {@code UPDATE} that compares the old document.
 *
 * <p>The incarnation is the cluster's system identifier (new for every {@code initdb}, so a
 * different server or a logical restore into a new cluster changes it), its current timeline (a
 * promoted standby and a point-in-time recovery start a new one) and the OID of the fence sequence
 * {@value PostgresLockService#FENCE_SEQUENCE} (dropped and created again, the database re-created,
 * it changes). Where fsync or synchronous_commit is off, a crash can lose sequence values, so the
 * server's start time is part of it too.
 */
final class PgLedgerStore implements LedgerStore {

  static final String TABLE = "fenced_ledger";

  static final String DDL =
      "CREATE TABLE IF NOT EXISTS "
          + TABLE
          + " (id int PRIMARY KEY CHECK (id = 1), document text NOT NULL)";

  private static final String FACTS =
      "SELECT %s, substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8),"
          + " to_regclass('"
          + PostgresLockService.FENCE_SEQUENCE
          + "')::oid::bigint, current_setting('fsync'), current_setting('synchronous_commit'),"
          + " pg_postmaster_start_time()::text";

  /** Its calls go through the service's, so they are bounded by its request timeout. */
  private final PostgresLockService service;

  PgLedgerStore(PostgresLockService service) {
    this.service = service;
  }

  @Override
  public CompletionStage<Snapshot> read() {
    return service
        .request(conn -> conn.query("SELECT document FROM " + TABLE + " WHERE id = 1").execute())
        .map(
            rows -> {
              String document = rows.size() == 0 ? null : rows.iterator().next().getString(0);
              return new Snapshot(document, document);
            })
        .recover(
            e ->
                "42P01".equals(PostgresLockService.sqlState(e)) // not provisioned yet
                    ? Future.succeededFuture(new Snapshot(null, null))
                    : Future.failedFuture(e))
        .toCompletionStage();
  }

  @Override
  public CompletionStage<Boolean> compareAndSet(Snapshot expected, String document) {
    Future<RowSet<Row>> write =
        expected.document() == null
            ? service.request(
                conn ->
                    conn.preparedQuery(
                            "INSERT INTO "
                                + TABLE
                                + " (id, document) VALUES (1, $1) ON CONFLICT DO NOTHING")
                        .execute(Tuple.of(document)))
            : service.request(
                conn ->
                    conn.preparedQuery(
                            "UPDATE " + TABLE + " SET document = $2 WHERE id = 1 AND document = $1")
                        .execute(Tuple.of(expected.document(), document)));
    return write.map(rows -> rows.rowCount() == 1).toCompletionStage();
  }

  @Override
  public CompletionStage<Incarnation> incarnation() {
    return service
        .request(
            conn ->
                conn.query(
                        FACTS.formatted(
                            "(SELECT system_identifier FROM pg_control_system())::text"))
                    .execute())
        .recover(
            e ->
                // Some managed servers keep the control data from ordinary roles.
                "42501".equals(PostgresLockService.sqlState(e))
                    ? service.request(conn -> conn.query(FACTS.formatted("'unreadable'")).execute())
                    : Future.failedFuture(e))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              String system = row.getString(0);
              String timeline = row.getString(1);
              Long sequence = row.getLong(2);
              boolean durable = "on".equals(row.getString(3)) && !"off".equals(row.getString(4));
              String started = row.getString(5);
              String id =
                  "postgres system="
                      + system
                      + " timeline="
                      + timeline
                      + " sequence="
                      + (sequence == null ? "none" : sequence)
                      + (durable ? "" : " started=" + started);
              return Incarnation.of(
                  id,
                  "PostgreSQL system identifier "
                      + system
                      + ", timeline "
                      + timeline
                      + ", fence sequence "
                      + (sequence == null ? "missing" : "OID " + sequence)
                      + (durable
                          ? ""
                          : ", server started "
                              + started
                              + " (fsync or synchronous_commit is off: a crash can lose sequence"
                              + " values, so every restart counts)"));
            })
        .toCompletionStage();
  }

  @Override
  public String where() {
    return "PostgreSQL table " + TABLE;
  }
}
