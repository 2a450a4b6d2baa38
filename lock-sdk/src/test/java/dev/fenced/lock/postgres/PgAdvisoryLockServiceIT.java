package dev.fenced.lock.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PgAdvisoryLockServiceIT extends PgLockServiceContract {

  @Override
  protected PostgresMode mode() {
    return PostgresMode.Advisory;
  }

  @Test
  void backendName() {
    assertThat(service().backend()).isEqualTo("Postgres/Advisory");
  }

  @Test
  void terminatingTheHoldersSessionFreesTheLockAndReportsTheLoss() throws Exception {
    AbstractLockService holder = service();
    AbstractLockService next = service();
    String name = uniqueName("pg:advisory-terminate");
    PgAdvisoryLockHandle h = (PgAdvisoryLockHandle) holder.acquireBlocking(name, MAX_WAIT);
    assertThat(advisoryLocksOf(h.backendPid())).isEqualTo(1);

    assertThat(PgTestSupport.terminate(h.backendPid())).isTrue();

    LockLoss loss = h.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.SESSION_ENDED);
    assertThat(h.isHeld()).isFalse();
    LockHandle after = next.acquireBlocking(name, Duration.ofSeconds(5));
    assertThat(after.fencingToken()).isGreaterThan(h.fencingToken());
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(LockService.await(after.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void aReleasedConnectionGoesBackToThePoolHoldingNothing() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("pg:advisory-clean");
    PgAdvisoryLockHandle h = (PgAdvisoryLockHandle) service.acquireBlocking(name, MAX_WAIT);
    int pid = h.backendPid();
    assertThat(sessionSetting(pid)).isNotNull();

    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);

    assertThat(advisoryLocksOf(pid)).isZero();
    // The pooled session lives on, without the lease's idle timeout.
    Thread.sleep(LEASE.plusMillis(500).toMillis());
    assertThat(sessionAlive(pid)).isTrue();
  }

  private static int advisoryLocksOf(int pid) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = ?")) {
      s.setInt(1, pid);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static boolean sessionAlive(int pid) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s = c.prepareStatement("SELECT 1 FROM pg_stat_activity WHERE pid = ?")) {
      s.setInt(1, pid);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static String sessionSetting(int pid) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("SELECT application_name FROM pg_stat_activity WHERE pid = ?")) {
      s.setInt(1, pid);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
