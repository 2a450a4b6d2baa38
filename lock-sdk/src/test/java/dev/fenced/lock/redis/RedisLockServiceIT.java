package dev.fenced.lock.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The lock contract on a real Redis, plus what only the Redis backend does. */
class RedisLockServiceIT extends LockServiceContract {

  private static final String PREFIX = "fenced-it";

  private static Vertx vertx;
  private static Redis raw;

  /** Services built here with their own config; the contract closes those it built. */
  private final List<LockService> mine = new ArrayList<>();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    raw = Redis.createClient(vertx, TestServers.redisUrl());
  }

  @AfterAll
  static void stopVertx() throws Exception {
    raw.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static RedisLockConfig config() {
    return new RedisLockConfig(TestServers.redisUrl(), null, PREFIX);
  }

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return new RedisLockService(vertx, config(), settings, keeper);
  }

  @Override
  protected void stopBackend() {
    TestServers.backends("down", "redis");
  }

  @Override
  protected void startBackend() {
    TestServers.backends("up", "redis");
  }

  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) {
    raw(
        Request.cmd(Command.SET)
            .arg(lockKey(holder.name()))
            .arg("someone-else")
            .arg("PX")
            .arg(LEASE.toMillis()));
  }

  private RedisLockService redisService(RedisLockConfig config, LockSettings settings) {
    RedisLockService service = new RedisLockService(vertx, config, settings, new LeaseKeeper());
    LockService.await(service.provision());
    track(service);
    return service;
  }

  private void track(LockService service) {
    mine.add(service);
  }

  @AfterEach
  void closeMine() {
    mine.forEach(LockService::close);
    mine.clear();
  }

  private static Response raw(Request request) {
    try {
      return raw.send(request).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("raw Redis request failed: " + request.command(), e);
    }
  }

  private static String lockKey(String name) {
    return PREFIX + ":{" + name + "}:lock";
  }

  private static String lineKey(String name) {
    return PREFIX + ":{" + name + "}:line";
  }

  private static String turnKey(String name) {
    return PREFIX + ":{" + name + "}:turn";
  }

  private static String fenceKey(String name) {
    return PREFIX + ":{" + name + "}:fence";
  }

  @Test
  void aReleaseWakesAWaiterThroughPubSubLongBeforeItsBackOffWould() throws Exception {
    // Long lease and back-off: only a notification can bring the waiter back early.
    LockSettings settings = settings().withTiming(Duration.ofSeconds(30), Duration.ofSeconds(10));
    RedisLockConfig config = config().withMaxBackoff(Duration.ofSeconds(60));
    RedisLockService holder = redisService(config, settings);
    RedisLockService waiter = redisService(config, settings);
    await().atMost(Duration.ofSeconds(10)).until(waiter::isSubscribed);
    String name = uniqueName("redis:pubsub");
    LockHandle held = holder.acquireBlocking(name, MAX_WAIT);

    CompletableFuture<LockHandle> waiting =
        waiter.acquire(name, Duration.ofSeconds(30)).toCompletableFuture();
    // After the 11th attempt the waiter sleeps jitter(5 ms * 2^10) = 2.56 s .. 5.12 s.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> waiter.acquireAttempts() >= 11);
    Thread.sleep(100); // the 11th attempt has surely been answered: the long sleep has begun
    assertThat(waiting).isNotDone();
    long attemptsBeforeRelease = waiter.acquireAttempts();
    assertThat(attemptsBeforeRelease).isEqualTo(11);

    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);

    // Well inside the 2.46 s that remain at least of the back-off: the wake-up did it.
    LockHandle next = waiting.get(1500, TimeUnit.MILLISECONDS);
    assertThat(waiter.acquireAttempts()).isEqualTo(attemptsBeforeRelease + 1);
    assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
    LockService.await(next.release());
  }

  @Test
  void anUncontendedReleasePublishesNothingAndAContendedOnePublishesOnce() throws Exception {
    String name = uniqueName("redis:publish");
    List<String> published = new java.util.concurrent.CopyOnWriteArrayList<>();
    var listener = raw.connect().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    try {
      listener.handler(
          message -> {
            if (message.size() == 3 && "message".equals(message.get(0).toString())) {
              published.add(message.get(2).toString());
            }
          });
      listener
          .send(Request.cmd(Command.SUBSCRIBE).arg(PREFIX + ":released"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
      RedisLockService holder = redisService(config(), settings());
      RedisLockService other = redisService(config(), settings());

      LockService.await(holder.acquireBlocking(name, MAX_WAIT).release());
      // A refused attempt during the next hold raises the waiting flag: its release publishes.
      LockHandle held = holder.acquireBlocking(name, MAX_WAIT);
      CompletableFuture<LockHandle> waiting = other.acquire(name, MAX_WAIT).toCompletableFuture();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  raw(Request.cmd(Command.EXISTS).arg(PREFIX + ":{" + name + "}:waiting"))
                          .toInteger()
                      == 1);
      LockService.await(held.release());
      LockService.await(waiting.get(5, TimeUnit.SECONDS).release());

      await().atMost(Duration.ofSeconds(5)).until(() -> published.contains(name));
      Thread.sleep(200); // a second message, if any, would have arrived by now
      // Three releases: only the one with a waiter during its hold published.
      assertThat(published.stream().filter(name::equals).count()).isEqualTo(1);
    } finally {
      listener.close();
    }
  }

  @Test
  void aReleaseHandsTheLockToTheServicesOwnWaiterWithoutAnAttemptOfItsOwn() throws Exception {
    // Long back-off: the waiter sleeps for seconds after its 11th refused attempt.
    LockSettings settings = settings().withTiming(Duration.ofSeconds(30), Duration.ofSeconds(10));
    RedisLockService service =
        redisService(config().withMaxBackoff(Duration.ofSeconds(60)), settings);
    String name = uniqueName("redis:handoff");
    LockHandle held = service.acquireBlocking(name, MAX_WAIT);
    long attemptsWhileFree = service.acquireAttempts();

    CompletableFuture<LockHandle> waiting =
        service.acquire(name, Duration.ofSeconds(30)).toCompletableFuture();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> service.acquireAttempts() - attemptsWhileFree >= 11);
    Thread.sleep(100); // the 11th attempt has surely been answered: the long sleep has begun
    long attemptsBeforeRelease = service.acquireAttempts();

    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);

    LockHandle next = waiting.get(1500, TimeUnit.MILLISECONDS);
    // The release itself passed the lock on: the waiter sent no attempt of its own.
    assertThat(service.acquireAttempts()).isEqualTo(attemptsBeforeRelease);
    assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(next.ownerId()).isNotEqualTo(held.ownerId());
    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString())
        .isEqualTo(next.ownerId());
    long ttl = raw(Request.cmd(Command.PTTL).arg(lockKey(name))).toLong();
    assertThat(ttl).isPositive().isLessThanOrEqualTo(settings.leaseDuration().toMillis());
    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(LockService.await(next.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(raw(Request.cmd(Command.EXISTS).arg(lockKey(name))).toInteger()).isZero();
  }

  @Test
  void aReleaseDoesNotKeepTheLockForItsOwnWaiterWhenAnotherServiceWaits() throws Exception {
    String name = uniqueName("redis:handoff-fair");
    List<String> published = new java.util.concurrent.CopyOnWriteArrayList<>();
    var listener = raw.connect().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    try {
      listener.handler(
          message -> {
            if (message.size() == 3 && "message".equals(message.get(0).toString())) {
              published.add(message.get(2).toString());
            }
          });
      listener
          .send(Request.cmd(Command.SUBSCRIBE).arg(PREFIX + ":released"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
      RedisLockService holder = redisService(config(), settings());
      RedisLockService other = redisService(config(), settings());
      LockHandle held = holder.acquireBlocking(name, MAX_WAIT);
      long holderAttempts = holder.acquireAttempts();
      CompletableFuture<LockHandle> remote = other.acquire(name, MAX_WAIT).toCompletableFuture();
      await().atMost(Duration.ofSeconds(5)).until(() -> other.acquireAttempts() >= 1);
      CompletableFuture<LockHandle> local = holder.acquire(name, MAX_WAIT).toCompletableFuture();
      await().atMost(Duration.ofSeconds(5)).until(() -> holder.acquireAttempts() > holderAttempts);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  "*"
                      .equals(
                          raw(Request.cmd(Command.GET).arg(PREFIX + ":{" + name + "}:waiting"))
                              .toString()));

      assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);

      // Another service was refused: the release deleted the lock, gave the turn to the service
      // that asked first and told every service. The releasing service's own waiter, woken
      // first, is refused until the other service has held.
      await().atMost(Duration.ofSeconds(5)).until(() -> published.contains(name));
      LockHandle first = remote.get(5, TimeUnit.SECONDS);
      assertThat(local).isNotDone();
      assertThat(first.fencingToken()).isGreaterThan(held.fencingToken());
      LockService.await(first.release());
      LockHandle second = local.get(5, TimeUnit.SECONDS);
      assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
      LockService.await(second.release());
    } finally {
      listener.close();
    }
  }

  /**
   * Two services, each with two workers that take the lock again as soon as they let it go, so both
   * services always wait: each release must give the lock to the other service. Without turns the
   * releasing service's own waiter, woken as soon as its release is answered, races the other
   * service's, woken by the published message, and wins about half the rounds or more.
   */
  @Test
  void servicesWaitingForALockHoldInTurnNotByRace() throws Exception {
    String name = uniqueName("redis:turns");
    RedisLockService a = redisService(config(), settings());
    RedisLockService b = redisService(config(), settings());
    int rounds = 60;
    List<String> holders = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger taken =
        new java.util.concurrent.atomic.AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    for (String who : List.of("a", "a", "b", "b")) {
      RedisLockService service = who.equals("a") ? a : b;
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                while (taken.getAndIncrement() < rounds) {
                  LockHandle hold = service.acquireBlocking(name, MAX_WAIT);
                  holders.add(who);
                  try {
                    Thread.sleep(15); // long enough for every other worker to be refused
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                  LockService.await(hold.release());
                }
              },
              threads));
    }
    try {
      CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }

    // The first few holds come before both services are in line.
    List<String> steady = holders.subList(4, holders.size());
    long changes = 0;
    for (int i = 1; i < steady.size(); i++) {
      if (!steady.get(i).equals(steady.get(i - 1))) {
        changes++;
      }
    }
    assertThat(changes)
        .as("holds that went to the other service, of %d, in %s", steady.size() - 1, holders)
        .isGreaterThanOrEqualTo((long) (0.9 * (steady.size() - 1)));
  }

  /**
   * A service that waited in line and gave up before the release still gets the turn; nobody takes
   * it, it lapses after {@link RedisLockService#TURN_MILLIS}, and the next service holds.
   */
  @Test
  void aTurnThatNobodyTakesLapsesAndTheLockGoesOn() throws Exception {
    String name = uniqueName("redis:turn-lapses");
    RedisLockService holder = redisService(config(), settings());
    RedisLockService quitter = redisService(config(), settings());
    LockHandle held = holder.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> gaveUp =
        quitter.acquire(name, Duration.ofMillis(300)).toCompletableFuture();
    assertThatThrownBy(() -> gaveUp.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(dev.fenced.lock.LockTimeoutException.class);
    assertThat(raw(Request.cmd(Command.LRANGE).arg(lineKey(name)).arg(0).arg(-1)).size())
        .isEqualTo(1);
    CompletableFuture<LockHandle> next = holder.acquire(name, MAX_WAIT).toCompletableFuture();

    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);

    LockHandle after = next.get(5, TimeUnit.SECONDS);
    assertThat(after.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(raw(Request.cmd(Command.EXISTS).arg(turnKey(name))).toInteger()).isZero();
    assertThat(raw(Request.cmd(Command.EXISTS).arg(lineKey(name))).toInteger()).isZero();
    LockService.await(after.release());
  }

  @Test
  void aLapsedLeaseIsTakenOverWithALargerFence() throws Exception {
    LeaseKeeper pausedKeeper = new LeaseKeeper();
    AbstractLockService stalled = service(pausedKeeper);
    AbstractLockService next = service();
    String name = uniqueName("redis:lapse");
    LockHandle stale = stalled.acquireBlocking(name, MAX_WAIT);
    pausedKeeper.pause();

    // Nothing is published when a TTL runs out; the PTTL hint brings the waiter back in time.
    LockHandle fresh = next.acquireBlocking(name, MAX_WAIT);

    assertThat(fresh.fencingToken()).isGreaterThan(stale.fencingToken());
    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString())
        .isEqualTo(fresh.ownerId());
    LockLoss loss =
        stale.lost().toCompletableFuture().get(LEASE.toMillis() * 3, TimeUnit.MILLISECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.LEASE_EXPIRED);
    assertThat(LockService.await(stale.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString())
        .isEqualTo(fresh.ownerId());
    LockService.await(fresh.release());
    pausedKeeper.resume();
  }

  @Test
  void theKeysHoldTheOwnerTheFenceCounterAndATtlWithinTheLease() {
    LockSettings settings = settings().withEpoch(5);
    RedisLockService service = redisService(config(), settings);
    String name = uniqueName("redis:keys");

    LockHandle h = service.acquireBlocking(name, MAX_WAIT);

    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString()).isEqualTo(h.ownerId());
    assertThat(h.ownerId()).matches("[0-9a-f]{32}");
    long pttl = raw(Request.cmd(Command.PTTL).arg(lockKey(name))).toLong();
    assertThat(pttl).isPositive().isLessThanOrEqualTo(settings.leaseDuration().toMillis());
    long counter = raw(Request.cmd(Command.GET).arg(fenceKey(name))).toLong();
    assertThat(FencingTokens.counter(h.fencingToken())).isEqualTo(counter);
    assertThat(FencingTokens.epoch(h.fencingToken())).isEqualTo(5);

    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(raw(Request.cmd(Command.EXISTS).arg(lockKey(name))).toLong()).isZero();
    // The counter outlives the hold, so the next token is larger.
    assertThat(raw(Request.cmd(Command.GET).arg(fenceKey(name))).toLong()).isEqualTo(counter);
  }

  @Test
  void aDeletedFenceKeyStartsAboveEveryTokenItIssued() {
    RedisLockService service = redisService(config(), settings());
    String name = uniqueName("redis:fence-deleted");
    long last = 0;
    for (int i = 0; i < 3; i++) {
      LockHandle h = service.acquireBlocking(name, MAX_WAIT);
      last = h.fencingToken();
      LockService.await(h.release());
    }

    // Deleted by hand, or evicted by a server that may evict: a bare INCR would count from 1.
    assertThat(raw(Request.cmd(Command.DEL).arg(fenceKey(name))).toLong()).isEqualTo(1);
    LockHandle next = service.acquireBlocking(name, MAX_WAIT);

    assertThat(next.fencingToken()).isGreaterThan(last);
    long floor = raw(Request.cmd(Command.GET).arg(PREFIX + ":fence-floor")).toLong();
    assertThat(floor % LockScripts.FENCE_FLOOR_STEP).isZero();
    assertThat(FencingTokens.counter(next.fencingToken())).isEqualTo(floor);
    LockService.await(next.release());
  }

  @Test
  void provisioningBuildsAMissingFenceFloorFromTheCountersThePrefixHas() {
    // A prefix written before the floor existed: counters, no floor.
    String prefix = "fenced-it-floor-" + Long.toHexString(System.nanoTime());
    String name = uniqueName("redis:floor");
    String fence = prefix + ":{" + name + "}:fence";
    String other = prefix + ":{" + name + "-other}:fence";
    raw(Request.cmd(Command.SET).arg(fence).arg(5000));
    raw(Request.cmd(Command.SET).arg(other).arg(70));
    try {
      RedisLockService service =
          redisService(new RedisLockConfig(TestServers.redisUrl(), null, prefix), settings());

      assertThat(raw(Request.cmd(Command.GET).arg(prefix + ":fence-floor")).toLong())
          .isEqualTo(5000 - 5000 % LockScripts.FENCE_FLOOR_STEP);
      raw(Request.cmd(Command.DEL).arg(fence));
      LockHandle h = service.acquireBlocking(name, MAX_WAIT);
      assertThat(FencingTokens.counter(h.fencingToken())).isGreaterThan(5000);
      LockService.await(h.release());
      // Provisioning again leaves a floor alone, and never lowers one.
      raw(Request.cmd(Command.SET).arg(prefix + ":fence-floor").arg(1_048_576));
      LockService.await(service.provision());
      assertThat(raw(Request.cmd(Command.GET).arg(prefix + ":fence-floor")).toLong())
          .isEqualTo(1_048_576);
    } finally {
      raw(
          Request.cmd(Command.DEL)
              .arg(fence)
              .arg(other)
              .arg(prefix + ":fence-floor")
              .arg(prefix + ":incarnation"));
    }
  }

  @Test
  void aRenewalTheServerRefusesReportsTheLossAndLeavesTheNewOwnerAlone() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("redis:refused");
    LockHandle h = service.acquireBlocking(name, MAX_WAIT);

    raw(Request.cmd(Command.SET).arg(lockKey(name)).arg("someone-else").arg("PX").arg(60_000));

    LockLoss loss = h.lost().toCompletableFuture().get(LEASE.toMillis() * 2, TimeUnit.MILLISECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.RENEWAL_REJECTED);
    assertThat(h.isHeld()).isFalse();
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString())
        .isEqualTo("someone-else");
    raw(Request.cmd(Command.DEL).arg(lockKey(name)));
  }

  @Test
  void scriptsTheServerForgotAreSentAgain() {
    AbstractLockService service = service();
    String name = uniqueName("redis:noscript");
    raw(Request.cmd(Command.SCRIPT).arg("FLUSH"));

    LockHandle h = service.acquireBlocking(name, MAX_WAIT);
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);

    // EVAL cached the script again: the next calls go by SHA.
    Response cached =
        raw(
            Request.cmd(Command.SCRIPT)
                .arg("EXISTS")
                .arg(LockScripts.ACQUIRE.sha())
                .arg(LockScripts.RELEASE.sha()));
    assertThat(cached.get(0).toLong()).isEqualTo(1);
    assertThat(cached.get(1).toLong()).isEqualTo(1);
  }

  @Test
  void provisionLoadsTheScriptsAndIsIdempotent() {
    raw(Request.cmd(Command.SCRIPT).arg("FLUSH"));
    AbstractLockService service = service(); // provisions
    LockService.await(service.provision());

    for (RedisScript script : LockScripts.ALL) {
      Response exists = raw(Request.cmd(Command.SCRIPT).arg("EXISTS").arg(script.sha()));
      assertThat(exists.get(0).toLong()).as(script.name()).isEqualTo(1);
    }
  }

  @Test
  void theProbeReportsVersionLatencyAndWhetherFencingSurvivesARestart() {
    AbstractLockService service = service();

    BackendProbe withAof = LockService.await(service.probe());
    assertThat(withAof.reachable()).isTrue();
    assertThat(withAof.backend()).isEqualTo("Redis");
    assertThat(withAof.latency()).isNotNull();
    assertThat(withAof.durableFencing()).isTrue();
    assertThat(withAof.detail()).contains("Redis 7", "AOF on", "appendfsync everysec");

    raw(Request.cmd(Command.CONFIG).arg("SET").arg("appendonly").arg("no"));
    try {
      BackendProbe withoutAof = LockService.await(service.probe());
      assertThat(withoutAof.reachable()).isTrue();
      assertThat(withoutAof.durableFencing()).isFalse();
      assertThat(withoutAof.detail()).contains("AOF off", "tokens can repeat");
    } finally {
      raw(Request.cmd(Command.CONFIG).arg("SET").arg("appendonly").arg("yes"));
    }
  }

  @Test
  void theProbeWarnsWhenTheServerMayEvictLockOrFenceKeys() {
    AbstractLockService service = service();
    assertThat(LockService.await(service.probe()).detail()).doesNotContain("maxmemory-policy");

    // A limit far above what the test data takes: nothing is evicted, the setting is reported.
    raw(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("1gb"));
    try {
      raw(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory-policy").arg("allkeys-lru"));
      BackendProbe allKeys = LockService.await(service.probe());
      assertThat(allKeys.reachable()).isTrue();
      assertThat(allKeys.durableFencing()).as("fence counters may be evicted").isFalse();
      assertThat(allKeys.detail()).contains("maxmemory-policy allkeys-lru", "fence counters");

      raw(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory-policy").arg("volatile-ttl"));
      BackendProbe volatileKeys = LockService.await(service.probe());
      assertThat(volatileKeys.durableFencing()).as("fence counters carry no TTL").isTrue();
      assertThat(volatileKeys.detail()).contains("volatile-ttl", "lock keys, which carry a TTL");
    } finally {
      raw(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory-policy").arg("noeviction"));
      raw(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("0"));
    }
  }

  @Test
  void theProbeOfAnUnreachableServerReportsInsteadOfThrowing() {
    RedisLockService service =
        new RedisLockService(
            vertx,
            new RedisLockConfig("redis://127.0.0.1:1", null, PREFIX),
            settings(),
            new LeaseKeeper());
    track(service);

    BackendProbe probe = LockService.await(service.probe());

    assertThat(probe.reachable()).isFalse();
    assertThat(probe.durableFencing()).isFalse();
    assertThat(probe.detail()).isNotBlank();
  }

  @Test
  void aFrozenServerFailsAcquiresAfterTheRequestTimeoutNotTheWholeWait() throws Exception {
    RedisLockService service =
        redisService(config().withRequestTimeout(Duration.ofMillis(500)), settings());
    String pid = Files.readString(redisHome().resolve("redis.pid")).trim();
    signal("STOP", pid); // the process is alive, the socket open, and nothing answers
    try {
      long start = System.nanoTime();
      assertThatThrownBy(() -> service.acquireBlocking(uniqueName("redis:frozen"), MAX_WAIT))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining("Redis");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    } finally {
      signal("CONT", pid);
    }
    LockHandle h = service.acquireBlocking(uniqueName("redis:thawed"), MAX_WAIT);
    LockService.await(h.release());
  }

  private static Path redisHome() {
    String home = System.getenv("FENCED_HOME");
    if (home != null && !home.isBlank()) {
      return Path.of(home, "redis");
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/backends.sh"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("repository root").isNotNull();
    return dir.resolve(".fenced/redis");
  }

  private static void signal(String signal, String pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -" + signal + " " + pid).isZero();
  }

  @Test
  void aServiceOnTheApplicationsOwnClientWorksAndLeavesTheClientOpen() {
    RedisLockService service =
        new RedisLockService(
            vertx, raw, RedisLockConfig.forClient(PREFIX), settings(), new LeaseKeeper());
    String name = uniqueName("redis:own-client");
    LockHandle h = service.acquireBlocking(name, MAX_WAIT);
    assertThat(raw(Request.cmd(Command.GET).arg(lockKey(name))).toString()).isEqualTo(h.ownerId());
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);

    service.close();

    assertThat(raw(Request.cmd(Command.PING)).toString()).isEqualTo("PONG");
  }

  @Test
  void aServiceThatBuildsItsOwnClientNeedsAConnectionString() {
    assertThatThrownBy(
            () ->
                new RedisLockService(
                    vertx, RedisLockConfig.forClient(PREFIX), settings(), new LeaseKeeper()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionString");
  }

  @Test
  void theReleaseSubscriptionComesBackAfterARestartAndWakesWaitersAgain() throws Exception {
    LockSettings settings = settings().withTiming(Duration.ofSeconds(30), Duration.ofSeconds(10));
    RedisLockConfig config = config().withMaxBackoff(Duration.ofSeconds(60));
    RedisLockService holder = redisService(config, settings);
    RedisLockService waiter = redisService(config, settings);
    await().atMost(Duration.ofSeconds(10)).until(waiter::isSubscribed);

    stopBackend();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !waiter.isSubscribed());
    } finally {
      startBackend();
    }
    await().atMost(Duration.ofSeconds(30)).until(waiter::isSubscribed);

    String name = uniqueName("redis:resubscribed");
    LockHandle held = holder.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> waiting =
        waiter.acquire(name, Duration.ofSeconds(30)).toCompletableFuture();
    long before = waiter.acquireAttempts();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> waiter.acquireAttempts() - before >= 11);
    Thread.sleep(100);
    LockService.await(held.release());

    LockHandle next = waiting.get(1500, TimeUnit.MILLISECONDS);
    assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
    LockService.await(next.release());
  }
}
