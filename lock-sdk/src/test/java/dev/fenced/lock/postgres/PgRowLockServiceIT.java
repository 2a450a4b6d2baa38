package dev.fenced.lock.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.testing.BlackHoleProxy;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgRowLockServiceIT extends PgLockServiceContract {

  @BeforeAll
  static void writesTable() throws Exception {
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS rowlock_writes (name text NOT NULL, v int NOT NULL)");
    }
  }

  @Override
  protected PostgresMode mode() {
    return PostgresMode.RowLock;
  }

  private PgRowLockService rowLocks() {
    return (PgRowLockService) service();
  }

  @Test
  void backendName() {
    assertThat(service().backend()).isEqualTo("Postgres/RowLock");
  }

  @Test
  void theCallersWritesCommitOnRelease() throws Exception {
    PgRowLockService service = rowLocks();
    String name = uniqueName("pg:row-commit");
    PgRowLockHandle h = LockService.await(service.acquireRowLock(name, MAX_WAIT));

    insert(h, name, 1);
    insert(h, name, 2);
    assertThat(countWrites(name)).as("uncommitted writes are invisible outside").isZero();

    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(countWrites(name)).isEqualTo(2);
  }

  @Test
  void theCallersWritesVanishOnRollbackAndTheLockIsFree() throws Exception {
    PgRowLockService service = rowLocks();
    AbstractLockService other = service();
    String name = uniqueName("pg:row-rollback");
    PgRowLockHandle h = LockService.await(service.acquireRowLock(name, MAX_WAIT));
    insert(h, name, 1);

    assertThat(LockService.await(h.rollback())).isEqualTo(ReleaseResult.RELEASED);

    assertThat(countWrites(name)).isZero();
    assertThat(h.isHeld()).isFalse();
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.NOT_HELD);
    LockHandle next = other.acquireBlocking(name, Duration.ofSeconds(2));
    assertThat(next.fencingToken()).isGreaterThan(h.fencingToken());
    LockService.await(next.release());
  }

  @Test
  void terminatingTheHoldersSessionFreesTheLockAndReportsTheLoss() throws Exception {
    PgRowLockService holder = rowLocks();
    AbstractLockService next = service();
    String name = uniqueName("pg:row-terminate");
    PgRowLockHandle h = LockService.await(holder.acquireRowLock(name, MAX_WAIT));
    insert(h, name, 7);

    assertThat(PgTestSupport.terminate(h.backendPid())).isTrue();

    LockLoss loss = h.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.SESSION_ENDED);
    assertThat(loss.fencingToken()).isEqualTo(h.fencingToken());
    assertThat(h.isHeld()).isFalse();
    LockHandle after = next.acquireBlocking(name, Duration.ofSeconds(5));
    assertThat(after.fencingToken()).isGreaterThan(h.fencingToken());
    assertThat(countWrites(name)).as("the killed transaction's writes are gone").isZero();
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(LockService.await(after.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void theWaitsLockTimeoutDoesNotBindTheCallersStatements() throws Exception {
    PgRowLockService service = rowLocks();
    String name = uniqueName("pg:row-lock-timeout");
    // The acquire waits with lock_timeout = its wait (300 ms) ...
    PgRowLockHandle h = LockService.await(service.acquireRowLock(name, Duration.ofMillis(300)));
    try (Connection other = TestServers.jdbc()) {
      assertThat(query(h, "SHOW lock_timeout")).isEqualTo(show(other, "lock_timeout"));

      // ... and the caller's own statement in the hold's transaction may wait longer than that
      // for a lock someone else holds for a second.
      other.setAutoCommit(false);
      long key = ThreadLocalRandom.current().nextLong();
      try (Statement s = other.createStatement()) {
        s.execute("SELECT pg_advisory_xact_lock(" + key + ")");
      }
      CompletableFuture<Void> letGo =
          CompletableFuture.runAsync(
              () -> {
                try {
                  Thread.sleep(1_000);
                  other.commit();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThat(query(h, "SELECT pg_advisory_xact_lock(" + key + ")::text")).isEmpty();
      letGo.get(10, TimeUnit.SECONDS);
    }
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void aHoldWhoseTransactionEndedUnderItIsReportedLost() throws Exception {
    PgRowLockService holder = rowLocks();
    AbstractLockService next = service();
    String name = uniqueName("pg:row-ended");
    PgRowLockHandle h = LockService.await(holder.acquireRowLock(name, MAX_WAIT));

    // Against the connection's rules, the caller ends the transaction itself: the row lock is gone
    // with it, and the session is as alive as ever. The heartbeat must see that, not just answer.
    query(h, "COMMIT");
    LockHandle after = next.acquireBlocking(name, Duration.ofSeconds(2));

    LockLoss loss =
        h.lost().toCompletableFuture().get(lease().toMillis() * 2, TimeUnit.MILLISECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.RENEWAL_REJECTED);
    assertThat(h.isHeld()).isFalse();
    assertThat(after.fencingToken()).isGreaterThan(h.fencingToken());
    assertThat(LockService.await(after.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void deprovisioningWhileAHoldIsOpenFailsAtOnceAndQueuesNoAcquire() throws Exception {
    PgRowLockService holder = rowLocks();
    AbstractLockService other = service();
    PgRowLockHandle h =
        LockService.await(holder.acquireRowLock(uniqueName("pg:row-deprovision"), MAX_WAIT));
    PolicyRecord record = new PolicyRecord("voting/deprovision", "uid-1", 1, 0);

    CompletableFuture<Boolean> dropping = holder.deprovision(record, false).toCompletableFuture();
    try {
      // Either the deprovision answered at once, or its DROP waits for the hold's transaction.
      await().atMost(Duration.ofSeconds(10)).until(() -> dropping.isDone() || dropIsWaiting());
      // Acquires of other names go on: nothing queues them behind a DROP that waits for the hold.
      LockHandle unrelated =
          other
              .acquire(uniqueName("pg:row-unrelated"), Duration.ofSeconds(2))
              .toCompletableFuture()
              .get(5, TimeUnit.SECONDS);
      LockService.await(unrelated.release());
      assertThatThrownBy(() -> dropping.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining(PgRowLockService.TABLE + " is in use");
      assertThat(h.isHeld()).isTrue();
    } finally {
      assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
      dropping.handle((r, e) -> null).get(30, TimeUnit.SECONDS);
      LockService.await(holder.provision()); // the table for the tests that follow
    }
    // With no hold open, deprovisioning drops the table.
    assertThat(LockService.await(holder.deprovision(record, false))).isTrue();
    LockService.await(holder.provision());
  }

  @Test
  void aHoldLostBehindASilentNetworkGivesItsConnectionBack() throws Exception {
    try (BlackHoleProxy proxy =
        BlackHoleProxy.start(0, TestServers.pgHost(), TestServers.pgPort())) {
      // One connection: whatever keeps it after the loss keeps every acquire of this service out.
      PgRowLockService service =
          (PgRowLockService)
              PostgresLockService.create(
                  PgTestSupport.VERTX,
                  PgTestSupport.config(PostgresMode.RowLock)
                      .withServer("127.0.0.1", proxy.port())
                      .withMaxPoolSize(1)
                      .withRequestTimeout(Duration.ofSeconds(3)),
                  settings(),
                  new LeaseKeeper());
      try {
        LockService.await(service.provision());
        PgRowLockHandle h =
            LockService.await(service.acquireRowLock(uniqueName("pg:row-silent"), MAX_WAIT));

        proxy.cut();
        h.lost().toCompletableFuture().get(lease().toMillis() * 3, TimeUnit.MILLISECONDS);
        proxy.healNewConnectionsOnly();

        // The lost hold's end (a ROLLBACK nobody answers) takes up to a request timeout; then its
        // connection must be gone from the pool and a new one usable.
        LockHandle next =
            await()
                .atMost(Duration.ofSeconds(15))
                .ignoreExceptions()
                .until(
                    () ->
                        service
                            .acquire(uniqueName("pg:row-after"), Duration.ofSeconds(2))
                            .toCompletableFuture()
                            .get(5, TimeUnit.SECONDS),
                    held -> true);
        assertThat(LockService.await(next.release())).isEqualTo(ReleaseResult.RELEASED);
      } finally {
        service.close();
      }
    }
  }

  private static boolean dropIsWaiting() throws Exception {
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity"
                    + " WHERE wait_event_type = 'Lock' AND query LIKE 'DROP TABLE%'")) {
      rs.next();
      return rs.getLong(1) > 0;
    }
  }

  /** The first column of the first row of a statement run in the hold's transaction. */
  private static String query(PgRowLockHandle h, String sql) {
    return LockService.await(
        h.connection()
            .query(sql)
            .execute()
            .map(
                rows ->
                    rows.size() == 0 || rows.iterator().next().getValue(0) == null
                        ? ""
                        : rows.iterator().next().getValue(0).toString())
            .toCompletionStage());
  }

  private static String show(Connection c, String setting) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void insert(PgRowLockHandle h, String name, int v) {
    LockService.await(
        h.connection()
            .preparedQuery("INSERT INTO rowlock_writes (name, v) VALUES ($1, $2)")
            .execute(Tuple.of(name, v))
            .toCompletionStage());
  }

  private static long countWrites(String name) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM rowlock_writes WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
