package dev.fenced.lock.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PgLockTableLockServiceIT extends PgLockServiceContract {

  @Override
  protected PostgresMode mode() {
    return PostgresMode.LockTable;
  }

  @Test
  void backendNameAndProbe() {
    AbstractLockService service = service();
    assertThat(service.backend()).isEqualTo("Postgres/LockTable");
    var probe = LockService.await(service.probe());
    assertThat(probe.reachable()).isTrue();
    assertThat(probe.detail()).contains("PostgreSQL").contains("fenced_fence_seq");
  }

  @Test
  void anExpiredRowIsTakenOverWithALargerFence() throws Exception {
    AbstractLockService crashing = service();
    AbstractLockService next = service();
    String name = uniqueName("pg:takeover");

    LockHandle old = crashing.acquireBlocking(name, MAX_WAIT);
    crashing.close(); // no release: the row stays, and only the server's clock expires it
    await()
        .atMost(LEASE.multipliedBy(3))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> rowExpired(name));
    assertThat(row(name))
        .isEqualTo(old.ownerId() + "/" + FencingTokens.counter(old.fencingToken()));

    LockHandle taker = next.acquireBlocking(name, Duration.ofSeconds(5));

    assertThat(taker.fencingToken()).isGreaterThan(old.fencingToken());
    assertThat(row(name))
        .isEqualTo(taker.ownerId() + "/" + FencingTokens.counter(taker.fencingToken()));
    assertThat(rowExpired(name)).isFalse();
    // The old owner's release is compare-owner: the taker's row stays.
    assertThat(LockService.await(old.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(row(name)).startsWith(taker.ownerId());
    assertThat(LockService.await(taker.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(row(name)).isNull();
  }

  @Test
  void aReleaseNotificationWakesAWaiterWellBeforeItsBackOffWould() throws Exception {
    // Long leases and a long back-off bound: only the notification can wake the waiter soon.
    LockSettings slow =
        new LockSettings(
            Duration.ofSeconds(60),
            Duration.ofSeconds(20),
            MAX_WAIT,
            LockSettings.Fencing.REQUIRED,
            0);
    PgLockTableLockService holderService = lockTable(slow, Duration.ofSeconds(60));
    PgLockTableLockService waiterService = lockTable(slow, Duration.ofSeconds(60));
    waiterService.listening().get(10, TimeUnit.SECONDS);
    String name = uniqueName("pg:notify");
    try {
      LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);
      CompletableFuture<LockHandle> waiting =
          waiterService.acquire(name, Duration.ofSeconds(25)).toCompletableFuture();

      // Attempts back off 5 ms, 10 ms, 20 ms, ... doubling. Once the 11th attempt has been made,
      // the pause in progress is at least 2.5 s (jitter keeps at least half of 5.12 s).
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> waiterService.attempts() >= 11);
      long releasedAt = System.nanoTime();
      LockService.await(held.release());

      LockHandle next = waiting.get(20, TimeUnit.SECONDS);
      Duration woke = Duration.ofNanos(System.nanoTime() - releasedAt);
      assertThat(woke).isLessThan(Duration.ofMillis(2_000));
      assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
      LockService.await(next.release());
    } finally {
      holderService.close();
      waiterService.close();
    }
  }

  @Test
  void aReleaseWakesTheNextLocalWaiterWithoutTheNotification() throws Exception {
    // One service, not listening: only the release itself can wake its own waiter before the
    // back-off (at least 2.5 s once 11 attempts were made) would.
    LockSettings slow =
        new LockSettings(
            Duration.ofSeconds(60),
            Duration.ofSeconds(20),
            MAX_WAIT,
            LockSettings.Fencing.REQUIRED,
            0);
    PgLockTableLockService service = lockTable(slow, Duration.ofSeconds(60));
    service.listening().get(10, TimeUnit.SECONDS);
    service.stopListening();
    String name = uniqueName("pg:local-wake");
    try {
      LockHandle held = service.acquireBlocking(name, MAX_WAIT);
      CompletableFuture<LockHandle> waiting =
          service.acquire(name, Duration.ofSeconds(25)).toCompletableFuture();
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> service.attempts() >= 12); // the holder's attempt and 11 of the waiter
      long releasedAt = System.nanoTime();
      LockService.await(held.release());

      LockHandle next = waiting.get(20, TimeUnit.SECONDS);
      Duration woke = Duration.ofNanos(System.nanoTime() - releasedAt);
      assertThat(woke).isLessThan(Duration.ofMillis(2_000));
      assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
      LockService.await(next.release());
    } finally {
      service.close();
    }
  }

  @Test
  void aReleaseCompletesTheWaitersSignalOfThatName() throws Exception {
    PgLockTableLockService listener = lockTable(settings(), Duration.ofSeconds(1));
    AbstractLockService releaser = service();
    try {
      listener.listening().get(10, TimeUnit.SECONDS);
      String name = uniqueName("pg:signal");
      String other = uniqueName("pg:signal-other");
      var waiter = listener.waiters().join(name);
      var otherWaiter = listener.waiters().join(other);
      CompletableFuture<Void> signal = waiter.arm();
      CompletableFuture<Void> otherSignal = otherWaiter.arm();

      LockHandle h = releaser.acquireBlocking(name, MAX_WAIT);
      assertThat(signal).isNotDone();
      LockService.await(h.release());

      signal.get(10, TimeUnit.SECONDS);
      assertThat(otherSignal).isNotDone();
      waiter.leave(false);
      otherWaiter.leave(false);
    } finally {
      listener.close();
    }
  }

  @Test
  void provisioningRacesSafelyOnAnEmptyDatabase() throws Exception {
    String db = "fenced_race_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = TestServers.jdbc();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + db);
    }
    List<PostgresLockService> services = new ArrayList<>();
    try {
      for (PostgresMode mode : PostgresMode.values()) {
        for (int i = 0; i < 3; i++) {
          PostgresLockConfig base = PgTestSupport.config(mode);
          services.add(
              PostgresLockService.create(
                  PgTestSupport.VERTX,
                  new PostgresLockConfig(
                      base.host(), base.port(), db, base.user(), base.password(), mode, 4),
                  settings()));
        }
      }
      List<CompletableFuture<Void>> all =
          services.stream().map(s -> s.provision().toCompletableFuture()).toList();
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      // And again: idempotent.
      LockService.await(services.get(0).provision());
      for (PostgresLockService service : services) {
        LockHandle h = service.acquireBlocking(uniqueName("race"), MAX_WAIT);
        LockService.await(h.release());
      }
    } finally {
      services.forEach(PostgresLockService::close);
      try (Connection c = TestServers.jdbc();
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    }
  }

  private PgLockTableLockService lockTable(LockSettings settings, Duration maxBackoff) {
    PgLockTableLockService service =
        new PgLockTableLockService(
            PgTestSupport.VERTX,
            PgTestSupport.config(PostgresMode.LockTable),
            settings,
            null,
            maxBackoff);
    LockService.await(service.provision());
    return service;
  }

  private static boolean rowExpired(String name) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT expires_at < now() FROM distributed_locks WHERE resource = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /** "owner/fence" of the lock's row, or null without one. */
  private static String row(String name) throws Exception {
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement("SELECT owner, fence FROM distributed_locks WHERE resource = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) + "/" + rs.getLong(2) : null;
      }
    }
  }
}
