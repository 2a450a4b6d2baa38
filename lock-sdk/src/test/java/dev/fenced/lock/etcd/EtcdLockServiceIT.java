package dev.fenced.lock.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lock contract on a real etcd, plus what only etcd does: queue order and leases. */
class EtcdLockServiceIT extends LockServiceContract {

  private static final String PREFIX = "/fenced-it/locks";

  private Client raw;

  @BeforeEach
  void openRawClient() {
    raw = EtcdCalls.newClient(config());
  }

  @AfterEach
  void closeRawClient() {
    raw.close();
  }

  private static EtcdLockConfig config() {
    return EtcdLockConfig.parse(TestServers.etcdEndpoints(), PREFIX);
  }

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return new EtcdLockService(config(), settings, keeper);
  }

  @Override
  protected void stopBackend() {
    TestServers.backends("down", "etcd");
  }

  @Override
  protected void startBackend() {
    TestServers.backends("up", "etcd");
  }

  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) throws Exception {
    raw.getKVClient().delete(((EtcdLockHandle) holder).key()).get(10, TimeUnit.SECONDS);
  }

  /** The waiter keys of {@code name} in create-revision order, read with a separate client. */
  private List<KeyValue> waiterKeys(String name) throws Exception {
    ByteSequence dir = new EtcdKeys(PREFIX).lockDir(name);
    return raw.getKVClient()
        .get(
            dir,
            GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.CREATE)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build())
        .get(10, TimeUnit.SECONDS)
        .getKvs();
  }

  /** Hands every key put under {@code dir} to {@code onPut}, read with a separate client. */
  private Watch.Watcher watchPuts(ByteSequence dir, java.util.function.Consumer<KeyValue> onPut) {
    return raw.getWatchClient()
        .watch(
            dir,
            WatchOption.builder().isPrefix(true).withNoDelete(true).build(),
            response ->
                response.getEvents().stream()
                    .filter(e -> e.getEventType() == WatchEvent.EventType.PUT)
                    .forEach(e -> onPut.accept(e.getKeyValue())));
  }

  @Test
  void deprovisioningWhileALockIsHeldLetsNobodyElseIn() throws Exception {
    // A prefix of its own, so no other test's keys are touched.
    EtcdLockConfig own =
        EtcdLockConfig.parse(TestServers.etcdEndpoints(), PREFIX + "-" + UUID.randomUUID());
    EtcdLockService holderService = new EtcdLockService(own, settings(), new LeaseKeeper());
    EtcdLockService waiterService = new EtcdLockService(own, settings(), new LeaseKeeper());
    try {
      LockService.await(holderService.provision());
      PolicyRecord record = new PolicyRecord("voting/deprovision", "uid-1", 1, 0);
      String name = uniqueName("etcd:deprovision");
      LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);
      AtomicBoolean bothHeld = new AtomicBoolean();
      CompletableFuture<LockHandle> waiting =
          waiterService
              .acquire(name, MAX_WAIT)
              .thenApply(
                  h -> {
                    bothHeld.compareAndSet(false, held.isHeld());
                    return h;
                  })
              .toCompletableFuture();
      ByteSequence dir = new EtcdKeys(own.keyPrefix()).lockDir(name);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  raw.getKVClient()
                          .get(dir, GetOption.builder().isPrefix(true).withCountOnly(true).build())
                          .get(10, TimeUnit.SECONDS)
                          .getCount()
                      == 2);

      assertThat(LockService.await(holderService.deprovision(record, false))).isTrue();

      // The policy is gone, the hold is not: its holder still holds, and the waiter waits.
      await()
          .during(lease())
          .atMost(lease().multipliedBy(2))
          .until(() -> held.isHeld() && !waiting.isDone());
      assertThat(
              raw.getKVClient()
                  .get(new EtcdKeys(own.keyPrefix()).marker())
                  .get(10, TimeUnit.SECONDS)
                  .getCount())
          .as("the provisioning marker")
          .isZero();
      assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);
      LockHandle next = waiting.get(10, TimeUnit.SECONDS);
      assertThat(bothHeld).as("two holders at once").isFalse();
      assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
      LockService.await(next.release());
    } finally {
      holderService.close();
      waiterService.close();
    }
  }

  @Test
  void waitersAreServedInTheOrderTheyQueuedWithRisingTokens() throws Exception {
    AbstractLockService holderService = service();
    List<AbstractLockService> waiters = List.of(service(), service(), service());
    String name = uniqueName("etcd:queue");
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);

    List<Integer> served = Collections.synchronizedList(new ArrayList<>());
    List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<ReleaseResult>> done = new ArrayList<>();
    // Queue the waiters in reverse service order, so the order can only come from the queue.
    for (int i = 0; i < waiters.size(); i++) {
      int index = i;
      int queued = waiterKeys(name).size();
      done.add(
          waiters
              .get(waiters.size() - 1 - i)
              .acquire(name, MAX_WAIT)
              .thenCompose(
                  h -> {
                    served.add(index);
                    tokens.add(h.fencingToken());
                    return h.release();
                  })
              .toCompletableFuture());
      await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == queued + 1);
    }
    Thread.sleep(300);
    assertThat(served).as("nobody is served while the lock is held").isEmpty();

    LockService.await(holder.release());
    for (CompletableFuture<ReleaseResult> d : done) {
      assertThat(d.get(10, TimeUnit.SECONDS)).isEqualTo(ReleaseResult.RELEASED);
    }

    assertThat(served).containsExactly(0, 1, 2);
    assertThat(tokens.get(0)).isGreaterThan(holder.fencingToken());
    assertThat(tokens).isSorted().doesNotHaveDuplicates();
    assertThat(waiterKeys(name)).isEmpty();
  }

  @Test
  void aWaiterThatTimesOutLeavesNoKeyAndNoLeaseBehind() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService waiter = service();
    String name = uniqueName("etcd:timeout/with/slashes");
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);

    List<KeyValue> seen = Collections.synchronizedList(new ArrayList<>());
    ByteSequence dir = new EtcdKeys(PREFIX).lockDir(name);
    try (Watch.Watcher watch = watchPuts(dir, seen::add)) {
      Thread.sleep(200); // let the watch start before the waiter queues
      assertThatThrownBy(() -> waiter.acquireBlocking(name, Duration.ofMillis(800)))
          .isInstanceOf(LockTimeoutException.class);
    }

    assertThat(seen).as("the waiter queued a key").hasSize(1);
    KeyValue waiterKey = seen.get(0);
    assertThat(waiterKeys(name))
        .as("the waiter's key is gone though its service's lease lives on")
        .extracting(KeyValue::getKey)
        .containsExactly(((EtcdLockHandle) holder).key());
    assertThat(leaseTtl(waiterKey.getLease())).as("the service's lease is shared").isPositive();
    assertThat(holder.isHeld()).isTrue();
    LockService.await(holder.release());

    waiter.close();
    assertThat(leaseTtl(waiterKey.getLease())).as("close() revokes the lease").isEqualTo(-1);
  }

  private long leaseTtl(long leaseId) throws Exception {
    return raw.getLeaseClient()
        .timeToLive(leaseId, LeaseOption.DEFAULT)
        .get(10, TimeUnit.SECONDS)
        .getTTL();
  }

  @Test
  void aLeaseRevokedElsewhereEndsTheHoldAndLetsTheNextWaiterIn() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService waiterService = service();
    String name = uniqueName("etcd:revoke");
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> waiting =
        waiterService.acquire(name, MAX_WAIT).toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == 2);

    KeyValue held = waiterKeys(name).get(0);
    assertThat(held.getValue().toString(StandardCharsets.UTF_8)).isEqualTo(holder.ownerId());
    raw.getLeaseClient().revoke(held.getLease()).get(10, TimeUnit.SECONDS);

    LockHandle next = waiting.get(10, TimeUnit.SECONDS);
    assertThat(next.fencingToken()).isGreaterThan(holder.fencingToken());
    LockLoss loss = holder.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.RENEWAL_REJECTED);
    assertThat(holder.isHeld()).isFalse();
    assertThat(LockService.await(holder.release())).isEqualTo(ReleaseResult.NOT_HELD);
    assertThat(next.isHeld()).isTrue();
    assertThat(LockService.await(next.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void holdsAndWaitersOfOneServiceShareItsLeaseWithoutSharingKeys() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("etcd:shared-lease");
    EtcdLockHandle first = (EtcdLockHandle) service.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> second = service.acquire(name, MAX_WAIT).toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == 2);
    assertThat(waiterKeys(name)).extracting(KeyValue::getLease).containsOnly(first.leaseId());
    Thread.sleep(200);
    assertThat(second).as("the same service's second acquire waits its turn").isNotDone();

    assertThat(LockService.await(first.release())).isEqualTo(ReleaseResult.RELEASED);
    EtcdLockHandle next = (EtcdLockHandle) second.get(10, TimeUnit.SECONDS);
    assertThat(next.leaseId()).isEqualTo(first.leaseId());
    assertThat(next.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(LockService.await(next.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(waiterKeys(name)).isEmpty();
    assertThat(leaseTtl(first.leaseId()))
        .as("a release leaves the lease to the service")
        .isPositive();
  }

  /**
   * etcd keeps every key ever created in its index until compaction, deleted or not, and reading a
   * lock's queue visits them all: a new key name per hold made every acquire slower than the last.
   * A service writes the same key names again instead, one per acquire it has under way at once.
   */
  @Test
  void holdAfterHoldAServiceWritesTheSameFewKeyNames() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("etcd:slots");
    ByteSequence dir = new EtcdKeys(PREFIX).lockDir(name);
    java.util.Set<String> written = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Long> tokens = new ArrayList<>();
    try (Watch.Watcher watch = watchPuts(dir, put -> written.add(put.getKey().toString(UTF_8)))) {
      Thread.sleep(200); // let the watch start
      // One at a time: one key name for all of them.
      for (int i = 0; i < 30; i++) {
        LockHandle held = service.acquireBlocking(name, MAX_WAIT);
        tokens.add(held.fencingToken());
        assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> !written.isEmpty());
      Thread.sleep(200);
      assertThat(written).as("30 holds one after the other").hasSize(1);

      // Three at once: a holder and two waiters need three names, and no more afterwards.
      for (int round = 0; round < 10; round++) {
        List<CompletableFuture<ReleaseResult>> done = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          done.add(
              service
                  .acquire(name, MAX_WAIT)
                  .thenCompose(
                      h -> {
                        synchronized (tokens) {
                          tokens.add(h.fencingToken());
                        }
                        return h.release();
                      })
                  .toCompletableFuture());
        }
        for (CompletableFuture<ReleaseResult> d : done) {
          assertThat(d.get(10, TimeUnit.SECONDS)).isEqualTo(ReleaseResult.RELEASED);
        }
      }
      Thread.sleep(200);
    }
    assertThat(written).as("three acquires at a time, ten times").hasSize(3);
    assertThat(tokens)
        .as("a key name written again gets a new create revision, so tokens still rise")
        .hasSize(60)
        .isSorted()
        .doesNotHaveDuplicates();
    assertThat(waiterKeys(name)).isEmpty();
  }

  /**
   * A key of the service's lease in the slot an acquire would use, with another owner in it (no
   * path of the service leaves one; etcd is shared): the acquire neither takes it for its own nor
   * deletes it, and queues under another name behind it.
   */
  @Test
  void aStrangersKeyInTheSlotIsNeitherTakenForOwnNorTouched() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("etcd:stranger");
    EtcdLockHandle first = (EtcdLockHandle) service.acquireBlocking(name, MAX_WAIT);
    ByteSequence slotKey = first.key();
    assertThat(LockService.await(first.release())).isEqualTo(ReleaseResult.RELEASED);
    ByteSequence stranger = ByteSequence.from("stranger", UTF_8);
    raw.getKVClient()
        .put(
            slotKey,
            stranger,
            io.etcd.jetcd.options.PutOption.builder().withLeaseId(first.leaseId()).build())
        .get(10, TimeUnit.SECONDS);

    CompletableFuture<LockHandle> next = service.acquire(name, MAX_WAIT).toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == 2);
    Thread.sleep(300);
    assertThat(next).as("the stranger's key is ahead of it in the queue").isNotDone();
    assertThat(waiterKeys(name).get(0).getValue()).isEqualTo(stranger);

    raw.getKVClient().delete(slotKey).get(10, TimeUnit.SECONDS);
    EtcdLockHandle held = (EtcdLockHandle) next.get(10, TimeUnit.SECONDS);
    assertThat(held.key()).isNotEqualTo(slotKey);
    assertThat(held.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(waiterKeys(name)).isEmpty();
  }

  /**
   * The next waiter becomes the holder on the deletion of the key ahead, without reading again; a
   * deletion of its own key before that (its lease revoked elsewhere, before its service notices)
   * must send it back to the queue, not into a hold whose key is gone.
   */
  @Test
  void aWaiterWhoseKeyWentFirstDoesNotTakeTheHandOff() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService waiterService = service();
    String name = uniqueName("etcd:own-key-first");
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> waiting =
        waiterService.acquire(name, MAX_WAIT).toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == 2);
    long revoked = waiterKeys(name).get(1).getLease();

    raw.getLeaseClient().revoke(revoked).get(10, TimeUnit.SECONDS);
    assertThat(LockService.await(holder.release())).isEqualTo(ReleaseResult.RELEASED);

    EtcdLockHandle served = (EtcdLockHandle) waiting.get(10, TimeUnit.SECONDS);
    assertThat(served.leaseId()).as("queued again on a new lease").isNotEqualTo(revoked);
    assertThat(waiterKeys(name))
        .singleElement()
        .satisfies(kv -> assertThat(kv.getLease()).isEqualTo(served.leaseId()));
    assertThat(served.fencingToken()).isGreaterThan(holder.fencingToken());
    assertThat(LockService.await(served.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  /**
   * Every wait of a service on a busy lock listens on the same watch: etcd's count of watch streams
   * it started rises by one for ten waits, not by ten.
   */
  @Test
  void waitsOfAServiceOnABusyLockShareOneWatchStream() throws Exception {
    AbstractLockService holderService = service();
    AbstractLockService waiterService = service();
    String name = uniqueName("etcd:one-watch");
    LockService.await(waiterService.acquireBlocking(name, MAX_WAIT).release()); // its lease
    long before = watchStreamsStarted();
    for (int i = 0; i < 10; i++) {
      LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);
      CompletableFuture<LockHandle> waiting =
          waiterService.acquire(name, MAX_WAIT).toCompletableFuture();
      await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == 2);
      assertThat(LockService.await(holder.release())).isEqualTo(ReleaseResult.RELEASED);
      LockHandle served = waiting.get(10, TimeUnit.SECONDS);
      assertThat(served.fencingToken()).isGreaterThan(holder.fencingToken());
      assertThat(LockService.await(served.release())).isEqualTo(ReleaseResult.RELEASED);
    }
    assertThat(watchStreamsStarted() - before).isEqualTo(1);
  }

  /**
   * A queue longer than a waiter follows key by key ({@code TRACKED}): the waiters far back wait
   * for the nearest key and look again, and every acquire is still served once, alone, with tokens
   * rising in the order served.
   */
  @Test
  void aLongQueueIsServedOneAtATimeInOrder() throws Exception {
    AbstractLockService service = service();
    String name = uniqueName("etcd:long-queue");
    LockHandle first = service.acquireBlocking(name, MAX_WAIT);
    int waiters = EtcdAcquisition.TRACKED + 8;
    java.util.concurrent.atomic.AtomicInteger inside =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Long> served = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      all.add(
          service
              .acquire(name, MAX_WAIT)
              .toCompletableFuture()
              .thenAccept(
                  h -> {
                    assertThat(inside.incrementAndGet()).isEqualTo(1);
                    served.add(h.fencingToken());
                    inside.decrementAndGet();
                    LockService.await(h.release());
                  }));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(name).size() == waiters + 1);
    assertThat(LockService.await(first.release())).isEqualTo(ReleaseResult.RELEASED);
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertThat(served).hasSize(waiters).isSorted().doesNotHaveDuplicates();
    assertThat(served.get(0)).isGreaterThan(first.fencingToken());
    assertThat(waiterKeys(name)).isEmpty();
  }

  /** etcd's own count of the watch streams it started ({@code /metrics}). */
  private static long watchStreamsStarted() throws Exception {
    String endpoint = TestServers.etcdEndpoints().split(",")[0];
    java.net.http.HttpResponse<String> metrics =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(endpoint + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    return metrics
        .body()
        .lines()
        .filter(
            l -> l.startsWith("grpc_server_started_total{") && l.contains("grpc_method=\"Watch\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  @Test
  void aLostLeaseEndsEveryHoldOnItAndIsNeverUsedAgain() throws Exception {
    AbstractLockService service = service();
    AbstractLockService other = service();
    String a = uniqueName("etcd:lost-a");
    String b = uniqueName("etcd:lost-b");
    String c = uniqueName("etcd:lost-c");
    EtcdLockHandle ha = (EtcdLockHandle) service.acquireBlocking(a, MAX_WAIT);
    EtcdLockHandle hb = (EtcdLockHandle) service.acquireBlocking(b, MAX_WAIT);
    LockHandle hc = other.acquireBlocking(c, MAX_WAIT);
    CompletableFuture<LockHandle> waiting = service.acquire(c, MAX_WAIT).toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterKeys(c).size() == 2);
    assertThat(hb.leaseId()).isEqualTo(ha.leaseId());
    assertThat(waiterKeys(c).get(1).getLease()).isEqualTo(ha.leaseId());

    raw.getLeaseClient().revoke(ha.leaseId()).get(10, TimeUnit.SECONDS);

    for (LockHandle h : List.of(ha, hb)) {
      LockLoss loss = h.lost().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(loss.reason()).isEqualTo(LockLoss.Reason.RENEWAL_REJECTED);
      assertThat(h.isHeld()).isFalse();
    }
    EtcdLockHandle again = (EtcdLockHandle) service.acquireBlocking(a, MAX_WAIT);
    assertThat(again.leaseId()).as("a new lease").isNotEqualTo(ha.leaseId());
    assertThat(again.fencingToken()).isGreaterThan(ha.fencingToken());

    // The waiter queued again on the new lease and is served when c is free.
    LockService.await(hc.release());
    EtcdLockHandle served = (EtcdLockHandle) waiting.get(10, TimeUnit.SECONDS);
    assertThat(served.leaseId()).isEqualTo(again.leaseId());
    LockService.await(served.release());
    LockService.await(again.release());
  }

  @Test
  void aPauseLongerThanTheLeaseLosesEveryHoldAndTheNextAcquireGetsANewLease() throws Exception {
    LeaseKeeper keeper = new LeaseKeeper();
    AbstractLockService paused = service(keeper);
    String a = uniqueName("etcd:pause-a");
    String b = uniqueName("etcd:pause-b");
    EtcdLockHandle ha = (EtcdLockHandle) paused.acquireBlocking(a, MAX_WAIT);
    EtcdLockHandle hb = (EtcdLockHandle) paused.acquireBlocking(b, MAX_WAIT);

    keeper.pause();
    try {
      for (LockHandle h : List.of(ha, hb)) {
        LockLoss loss =
            h.lost().toCompletableFuture().get(LEASE.toMillis() * 3, TimeUnit.MILLISECONDS);
        assertThat(loss.reason()).isEqualTo(LockLoss.Reason.LEASE_EXPIRED);
      }
    } finally {
      keeper.resume();
    }
    EtcdLockHandle after = (EtcdLockHandle) paused.acquireBlocking(a, MAX_WAIT);
    assertThat(after.leaseId()).as("the lapsed lease is not reused").isNotEqualTo(ha.leaseId());
    assertThat(after.fencingToken()).isGreaterThan(hb.fencingToken());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> leaseTtl(ha.leaseId()) == -1); // revoked, or expired by etcd
    assertThat(LockService.await(after.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void namesThatShareAPrefixAreDifferentLocks() {
    AbstractLockService service = service();
    String base = uniqueName("etcd:names");
    LockHandle a = service.acquireBlocking(base, MAX_WAIT);
    LockHandle b = service.acquireBlocking(base + "/sub", MAX_WAIT);
    LockHandle c = service.acquireBlocking(base + ":sub", MAX_WAIT);
    assertThat(List.of(a, b, c)).allMatch(LockHandle::isHeld);
    List.of(a, b, c).forEach(h -> LockService.await(h.release()));
  }

  @Test
  void provisionIsIdempotentAndProbeReportsDurableFencing() throws Exception {
    AbstractLockService service = service();
    LockService.await(service.provision());
    LockService.await(service.provision());

    BackendProbe probe = LockService.await(service.probe());
    assertThat(probe.reachable()).isTrue();
    assertThat(probe.durableFencing()).isTrue();
    assertThat(probe.latency()).isNotNull();
    assertThat(probe.detail()).startsWith("etcd 3.");
    assertThat(probe.backend()).isEqualTo("Etcd");
  }

  @Test
  void aProbeOfAStoppedServerReportsInsteadOfThrowing() {
    AbstractLockService service = service();
    stopBackend();
    try {
      BackendProbe probe = LockService.await(service.probe());
      assertThat(probe.reachable()).isFalse();
      assertThat(probe.detail()).isNotBlank();
    } finally {
      startBackend();
    }
  }
}
