package dev.fenced.lock.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.inprocess.InProcessLockService;
import dev.fenced.lock.postgres.PgRowLockHandle;
import dev.fenced.lock.postgres.PostgresLockConfig;
import dev.fenced.lock.postgres.PostgresLockService;
import dev.fenced.lock.postgres.PostgresMode;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One transaction under a hold, on the real PostgreSQL: committed whole while the hold lasts,
 * nothing kept when the work fails or the hold ends first, on the pool path (InProcess) and in the
 * lock's own transaction (RowLock).
 */
class HeldTransactionsIT {

  private static final String INSERT = "INSERT INTO held_tx_rows (id) VALUES ($1)";

  private static Vertx vertx;
  private static Pool pool;
  private final LeaseKeeper keeper = new LeaseKeeper();
  private AbstractLockService locks;

  @BeforeAll
  static void start() throws SQLException {
    vertx = Vertx.vertx();
    pool =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(4))
            .connectingTo(
                new PgConnectOptions()
                    .setHost(TestServers.pgHost())
                    .setPort(TestServers.pgPort())
                    .setDatabase(TestServers.pgDatabase())
                    .setUser(TestServers.pgUser())
                    .setPassword(TestServers.pgPassword()))
            .using(vertx)
            .build();
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS held_tx_rows (id text PRIMARY KEY)");
    }
  }

  @AfterAll
  static void stop() {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @AfterEach
  void close() {
    if (locks != null) {
      locks.close();
    }
    keeper.close();
  }

  private static LockSettings settings(Duration lease) {
    return new LockSettings(
        lease, lease.dividedBy(5), Duration.ofSeconds(10), LockSettings.Fencing.REQUIRED, 0);
  }

  private AbstractLockService rowLock() {
    locks =
        PostgresLockService.create(
            vertx,
            new PostgresLockConfig(
                TestServers.pgHost(),
                TestServers.pgPort(),
                TestServers.pgDatabase(),
                TestServers.pgUser(),
                TestServers.pgPassword(),
                PostgresMode.RowLock,
                4),
            settings(Duration.ofSeconds(10)),
            keeper);
    LockService.await(locks.provision());
    return locks;
  }

  @Test
  void thePoolPathCommitsWhileTheHoldLastsAndLeavesTheHoldToTheCaller() throws Exception {
    locks = new InProcessLockService(settings(Duration.ofSeconds(10)), keeper);
    LockHandle hold = LockService.await(locks.acquire("tx:pool"));
    String id = UUID.randomUUID().toString();

    String answer =
        LockService.await(
            new HeldTransactions(pool, null)
                .run(hold, conn -> conn.preparedQuery(INSERT).execute(Tuple.of(id)).map("done")));

    assertThat(answer).isEqualTo("done");
    assertThat(exists(id)).isTrue();
    assertThat(hold.isHeld()).isTrue();
    LockService.await(hold.release());
  }

  @Test
  void aFailingWorkKeepsNothingOfTheTransaction() throws Exception {
    locks = new InProcessLockService(settings(Duration.ofSeconds(10)), keeper);
    LockHandle hold = LockService.await(locks.acquire("tx:failing"));
    String id = UUID.randomUUID().toString();

    assertThatThrownBy(
            () ->
                LockService.await(
                    new HeldTransactions(pool, null)
                        .run(
                            hold,
                            conn ->
                                conn.preparedQuery(INSERT)
                                    .execute(Tuple.of(id))
                                    .compose(r -> conn.query("SELECT 1/0").execute()))))
        .hasMessageContaining("division by zero");

    assertThat(exists(id)).isFalse();
    LockService.await(hold.release());
  }

  @Test
  void aHoldLostMidTransactionOnThePoolPathCommitsNothing() throws Exception {
    locks = new InProcessLockService(settings(Duration.ofMillis(500)), keeper);
    LockHandle hold = LockService.await(locks.acquire("tx:lost"));
    String id = UUID.randomUUID().toString();
    keeper.pause(); // renewals stop: the lease lapses while the statement runs

    assertThatThrownBy(
            () ->
                LockService.await(
                    new HeldTransactions(pool, null)
                        .run(
                            hold,
                            conn ->
                                conn.preparedQuery(
                                        "WITH i AS (INSERT INTO held_tx_rows (id) VALUES ($1)"
                                            + " RETURNING 1) SELECT pg_sleep(1) FROM i")
                                    .execute(Tuple.of(id)))))
        .isInstanceOf(HoldLostException.class)
        .hasMessageContaining("tx:lost");

    assertThat(exists(id)).isFalse();
  }

  @Test
  void underRowLockTheWorkRunsInTheLocksTransactionAndTheReleaseCommitsIt() throws Exception {
    LockHandle hold = LockService.await(rowLock().acquire("tx:row"));
    assertThat(hold).isInstanceOf(SqlTransactionHold.class);
    String id = UUID.randomUUID().toString();

    String seen =
        LockService.await(
            new HeldTransactions(pool, Duration.ofSeconds(5))
                .run(
                    hold,
                    conn ->
                        conn.preparedQuery(INSERT)
                            .execute(Tuple.of(id))
                            .compose(
                                r ->
                                    conn.query("SELECT current_setting('statement_timeout')")
                                        .execute())
                            .map(
                                rows ->
                                    rows.iterator().next().getString(0)
                                        + " visible before commit: "
                                        + uncheckedExists(id))));

    assertThat(seen).isEqualTo("5s visible before commit: false");
    assertThat(exists(id)).isTrue();
    assertThat(hold.isHeld()).as("committing was releasing").isFalse();
  }

  @Test
  void underRowLockALostSessionCommitsNothing() throws Exception {
    PgRowLockHandle hold = (PgRowLockHandle) LockService.await(rowLock().acquire("tx:row-lost"));
    String id = UUID.randomUUID().toString();

    assertThatThrownBy(
            () ->
                LockService.await(
                    new HeldTransactions(pool, null)
                        .run(
                            hold,
                            conn ->
                                conn.preparedQuery(INSERT)
                                    .execute(Tuple.of(id))
                                    .compose(r -> terminate(hold.backendPid())))))
        .isInstanceOf(HoldLostException.class);

    assertThat(exists(id)).isFalse();
  }

  private Future<Void> terminate(int pid) {
    return pool.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(pid)).mapEmpty();
  }

  private static boolean uncheckedExists(String id) {
    try {
      return exists(id);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean exists(String id) throws SQLException {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement("SELECT 1 FROM held_tx_rows WHERE id = ?")) {
      s.setString(1, id);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }
}
