package dev.fenced.lock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.ledger.LedgerStore;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lock contract on the Fabric8 mock API server in CRUD mode (it checks resourceVersion on
 * update, as the real API server does), every service with its own client, plus what is particular
 * to Leases: name sanitising, takeover counting, expiry judged from observation, loss on a
 * conflicting takeover.
 */
class KubernetesLeaseLockServiceIT extends LockServiceContract {

  private static final String NAMESPACE = "locks";

  /** The mock server logs every request through java.util.logging; held so the level sticks. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private static KubernetesMockServer server;
  private static KubernetesClient admin;

  private final List<KubernetesClient> clients = new ArrayList<>();

  @BeforeAll
  static void startApiServer() {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    admin = server.createClient();
  }

  @AfterAll
  static void stopApiServer() {
    admin.close();
    server.destroy();
  }

  @AfterEach
  void closeClients() {
    // Services never close the caller's client; this test is that caller.
    clients.forEach(KubernetesClient::close);
    clients.clear();
  }

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    KubernetesClient client = server.createClient();
    clients.add(client);
    return new KubernetesLeaseLockService(
        client, new KubernetesLeaseLockConfig(NAMESPACE), settings, keeper);
  }

  // --- what is particular to Leases ---

  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) {
    casUpdate(
        holder.name(),
        lease ->
            new LeaseBuilder(lease)
                .editSpec()
                .withHolderIdentity("someone-else")
                .withLeaseTransitions(lease.getSpec().getLeaseTransitions() + 1)
                .endSpec()
                .build());
  }

  @Test
  void namesThatSanitiseAlikeGetTheirOwnLeases() {
    AbstractLockService service = service();
    String base = uniqueName("Lease:Names").toLowerCase();
    List<String> names = List.of(base, base.toUpperCase(), base.replace(':', '-'));

    List<LockHandle> held = new ArrayList<>();
    for (String name : names) {
      held.add(service.acquireBlocking(name, Duration.ofSeconds(5)));
    }

    for (String name : names) {
      Lease lease = lease(name);
      assertThat(lease.getMetadata().getName()).isEqualTo(LeaseNames.leaseName(name));
      assertThat(lease.getMetadata().getAnnotations())
          .containsEntry(KubernetesLeaseLockService.LOCK_NAME_ANNOTATION, name);
      assertThat(lease.getMetadata().getLabels())
          .containsEntry(
              KubernetesLeaseLockService.MANAGED_BY_LABEL, KubernetesLeaseLockService.MANAGED_BY);
    }
    assertThat(names.stream().map(LeaseNames::leaseName).distinct()).hasSize(names.size());
    for (LockHandle h : held) {
      assertThat(h.isHeld()).isTrue();
      assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    }
  }

  @Test
  void aLeaseRecordingAnotherLockNameIsNeverTaken() {
    String name = uniqueName("lease:foreign");
    admin
        .leases()
        .inNamespace(NAMESPACE)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName(LeaseNames.leaseName(name))
                .withAnnotations(
                    Map.of(KubernetesLeaseLockService.LOCK_NAME_ANNOTATION, "some other lock"))
                .endMetadata()
                .withNewSpec()
                .endSpec()
                .build())
        .create();

    assertThatThrownBy(() -> service().acquireBlocking(name, Duration.ofSeconds(2)))
        .isInstanceOf(InvalidLockPolicyException.class)
        .hasMessageContaining("some other lock");
  }

  @Test
  void takingOverAnExpiredLeaseCountsATransitionAndRaisesTheToken() {
    String name = uniqueName("lease:takeover");
    createHeldLease(name, "crashed-holder", 1, 41, ZonedDateTime.now(ZoneOffset.UTC));
    AbstractLockService service = service();

    LockHandle h = service.acquireBlocking(name, Duration.ofSeconds(10));

    // A Lease no fenced epoch took (no annotations): its first takeover at this epoch starts a
    // generation there, whose tokens sort above the 41 it counted in leaseTransitions alone.
    Lease taken = lease(name);
    long generation = generation(taken);
    assertThat(generation).isPositive();
    assertThat(taken.getMetadata().getAnnotations())
        .containsEntry(LeaseGeneration.START_ANNOTATION, "42");
    assertThat(h.fencingToken())
        .isEqualTo(FencingTokens.compose(0, generation << LeaseGeneration.TRANSITION_BITS | 1))
        .isGreaterThan(FencingTokens.compose(0, 41));
    assertThat(taken.getSpec().getHolderIdentity()).isEqualTo(h.ownerId());
    assertThat(taken.getSpec().getLeaseTransitions()).isEqualTo(42);
    assertThat(taken.getSpec().getLeaseDurationSeconds()).isEqualTo(2);

    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    Lease released = lease(name);
    assertThat(released.getSpec().getHolderIdentity()).isNull();
    assertThat(released.getSpec().getLeaseTransitions()).isEqualTo(42);

    // The next takeover at the same epoch counts on in that generation: no ledger write.
    LockHandle next = service.acquireBlocking(name, Duration.ofSeconds(10));
    assertThat(next.fencingToken())
        .isEqualTo(FencingTokens.compose(0, generation << LeaseGeneration.TRANSITION_BITS | 2));
    assertThat(generation(lease(name))).isEqualTo(generation);
    LockService.await(next.release());
  }

  @Test
  void aLeaseDeletedWhileNobodyWatchedIsCreatedAgainAboveEveryTokenItIssued() throws Exception {
    String name = uniqueName("lease:unwatched");
    long last = 0;
    try (AbstractLockService first = epochService(0)) {
      for (int i = 0; i < 3; i++) {
        LockHandle h = first.acquireBlocking(name, Duration.ofSeconds(10));
        assertThat(h.fencingToken()).isGreaterThan(last);
        last = h.fencingToken();
        LockService.await(h.release());
      }
    }
    assertThat(lease(name).getSpec().getLeaseTransitions()).isEqualTo(3);
    // Deleted while no service runs: nobody records it, nobody raises the epoch.
    admin.leases().inNamespace(NAMESPACE).withName(LeaseNames.leaseName(name)).delete();
    assertThat(lease(name)).isNull();

    try (AbstractLockService fresh = epochService(0)) {
      LockHandle h = fresh.acquireBlocking(name, Duration.ofSeconds(10));
      Lease created = lease(name);
      // The damage a bare count would do: the Lease counts from 1 again, at the same epoch.
      assertThat(created.getSpec().getLeaseTransitions()).isEqualTo(1);
      assertThat(FencingTokens.compose(0, created.getSpec().getLeaseTransitions()))
          .isLessThanOrEqualTo(last);
      // Its generation is newer than the deleted Lease's, so the token is not.
      assertThat(h.fencingToken()).isGreaterThan(last);
      LockService.await(h.release());
    }
  }

  @Test
  void aLeaseThatCountedPastOneGenerationWithoutOneIsTakenAboveItsCount() {
    String name = uniqueName("lease:legacy-long");
    int counted = 3 * (int) LeaseGeneration.MAX_TRANSITIONS + 5;
    createHeldLease(name, "nobody", 1, counted, ZonedDateTime.now(ZoneOffset.UTC).minusHours(1));

    LockHandle h = service().acquireBlocking(name, Duration.ofSeconds(10));

    assertThat(h.fencingToken()).isGreaterThan(FencingTokens.compose(0, counted));
    assertThat(generation(lease(name))).isGreaterThanOrEqualTo(4);
    LockService.await(h.release());
  }

  @Test
  void withoutItsLedgerLeaseAWatchedServiceCreatesNoLeaseUntilTheEpochRises() throws Exception {
    String name = uniqueName("lease:no-ledger");
    try (AbstractLockService watched = epochService(0)) {
      List<Boolean> doubts = new java.util.concurrent.CopyOnWriteArrayList<>();
      watched.onIncarnationDoubt(() -> doubts.add(true));
      admin.leases().inNamespace(NAMESPACE).withName(LeaseLedgerStore.NAME).delete();

      assertThatThrownBy(() -> watched.acquireBlocking(name, Duration.ofSeconds(2)))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining("the ledger Lease locks/fenced-ledger is missing");
      assertThat(lease(name)).isNull();
      assertThat(doubts).isNotEmpty();
    } finally {
      LockService.await(epochService(0).provision()); // the ledger Lease again, for other tests
    }
  }

  @Test
  void aLedgerUpdateIsNotRefusedBecauseALeaseWasCreatedMeanwhile() {
    KubernetesLeaseLockService service = (KubernetesLeaseLockService) service();
    LeaseLedgerStore store = new LeaseLedgerStore(service, admin, NAMESPACE);
    LedgerStore.Snapshot read = LockService.await(store.read());
    String document = "{\"entries\":[],\"by\":\"" + uniqueName("test") + "\"}";

    // A Lease created between the read and the write moves the generation counter, which shares
    // the ledger's Lease (and its resourceVersion) with the document.
    LockService.await(
        service
            .acquire(uniqueName("lease:meanwhile"), Duration.ofSeconds(5))
            .thenCompose(LockHandle::release));
    assertThat(
            admin
                .leases()
                .inNamespace(NAMESPACE)
                .withName(LeaseLedgerStore.NAME)
                .get()
                .getMetadata()
                .getResourceVersion())
        .isNotEqualTo(read.version());

    assertThat(LockService.await(store.compareAndSet(read, document))).isTrue();
    assertThat(LockService.await(store.read()).document()).isEqualTo(document);
    // A write from the same read again finds another document there: refused.
    assertThat(LockService.await(store.compareAndSet(read, document + " "))).isFalse();
    assertThat(LockService.await(store.read()).document()).isEqualTo(document);
    LockService.await(store.compareAndSet(LockService.await(store.read()), read.document()));
  }

  @Test
  void anUnreadableGenerationCounterIsRefusedNamingTheAnnotation() {
    AbstractLockService service = service();
    Lease ledger = admin.leases().inNamespace(NAMESPACE).withName(LeaseLedgerStore.NAME).get();
    String before =
        ledger.getMetadata().getAnnotations() == null
            ? null
            : ledger.getMetadata().getAnnotations().get(LeaseLedgerStore.GENERATION_ANNOTATION);
    setLedgerGeneration("seven");
    try {
      assertThatThrownBy(
              () -> service.acquireBlocking(uniqueName("lease:garbled"), Duration.ofSeconds(2)))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining(
              "annotation locks.fenced.dev/lease-generation of Lease locks/fenced-ledger is"
                  + " 'seven'");
    } finally {
      setLedgerGeneration(before == null ? "0" : before);
    }
  }

  @Test
  void aServiceAtAnOlderEpochDoesNotTakeALeaseANewerEpochHasTaken() throws Exception {
    String name = uniqueName("lease:epoch");
    try (AbstractLockService newer = epochService(3);
        AbstractLockService older = epochService(2)) {
      aServiceAtAnOlderEpochDoesNotTake(name, newer, older);
    }
  }

  private void aServiceAtAnOlderEpochDoesNotTake(
      String name, AbstractLockService newer, AbstractLockService older) {
    LockHandle h = newer.acquireBlocking(name, Duration.ofSeconds(10));
    long newest = h.fencingToken();
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
    assertThat(lease(name).getMetadata().getAnnotations())
        .containsEntry(KubernetesLeaseLockService.EPOCH_ANNOTATION, "3");

    // Free, and its transitions would go on from 1 to 2: at epoch 2 that token sorts below
    // (3, 1), the one already issued.
    assertThat(FencingTokens.compose(2, 2)).isLessThan(newest);
    assertThatThrownBy(() -> older.acquireBlocking(name, Duration.ofSeconds(2)))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("was last taken at fencing epoch 3, above this service's 2");
    assertThat(lease(name).getSpec().getLeaseTransitions()).isEqualTo(1);

    // The newer epoch goes on as before; a Lease with no epoch recorded is taken at any epoch.
    LockHandle again = newer.acquireBlocking(name, Duration.ofSeconds(10));
    assertThat(again.fencingToken()).isGreaterThan(newest);
    LockService.await(again.release());
    String unmarked = uniqueName("lease:unmarked");
    createHeldLease(unmarked, "nobody", 1, 5, ZonedDateTime.now(ZoneOffset.UTC).minusHours(1));
    LockHandle old = older.acquireBlocking(unmarked, Duration.ofSeconds(10));
    assertThat(old.fencingToken())
        .isEqualTo(
            FencingTokens.compose(
                2, generation(lease(unmarked)) << LeaseGeneration.TRANSITION_BITS | 1))
        .isGreaterThan(FencingTokens.compose(2, 5));
    LockService.await(old.release());
  }

  private AbstractLockService epochService(long epoch) {
    AbstractLockService service = createService(settings().withEpoch(epoch), new LeaseKeeper());
    LockService.await(service.provision());
    return service;
  }

  @Test
  void expiryCountsFromWhenThisClientObservedTheRecordNotFromItsRenewTime() {
    String name = uniqueName("lease:observed");
    // By the wall clock this record expired an hour ago; this client has only just seen it.
    ZonedDateTime anHourAgo = ZonedDateTime.now(ZoneOffset.UTC).minusHours(1);
    createHeldLease(name, "live-holder-with-a-skewed-clock", 2, 7, anHourAgo);
    AbstractLockService service = service();

    long firstSeen = System.nanoTime();
    assertThatThrownBy(() -> service.acquireBlocking(name, Duration.ofMillis(800)))
        .isInstanceOf(LockTimeoutException.class);
    assertThat(lease(name).getSpec().getHolderIdentity())
        .isEqualTo("live-holder-with-a-skewed-clock");

    LockHandle h = service.acquireBlocking(name, Duration.ofSeconds(10));
    Duration sinceFirstSeen = Duration.ofNanos(System.nanoTime() - firstSeen);

    assertThat(sinceFirstSeen).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(lease(name).getSpec().getLeaseTransitions()).isEqualTo(8);
    assertThat(h.fencingToken())
        .isEqualTo(
            FencingTokens.compose(
                0, generation(lease(name)) << LeaseGeneration.TRANSITION_BITS | 1));
    LockService.await(h.release());
  }

  @Test
  void aTakeoverThatConflictsWithRenewalIsReportedAsLoss() throws Exception {
    String name = uniqueName("lease:stolen");
    LockHandle h = service().acquireBlocking(name, Duration.ofSeconds(5));

    // Another party replaces the holder between two renewals: the next renewal's update carries a
    // stale resourceVersion, gets 409, reads the Lease again and finds someone else.
    Lease stolen =
        casUpdate(
            name,
            lease ->
                new LeaseBuilder(lease)
                    .editSpec()
                    .withHolderIdentity("intruder")
                    .withLeaseTransitions(lease.getSpec().getLeaseTransitions() + 1)
                    .endSpec()
                    .build());

    LockLoss loss = h.lost().toCompletableFuture().get(LEASE.toMillis() * 3, TimeUnit.MILLISECONDS);
    assertThat(loss.reason()).isEqualTo(LockLoss.Reason.RENEWAL_REJECTED);
    assertThat(h.isHeld()).isFalse();
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.NOT_HELD);
    Lease after = lease(name);
    assertThat(after.getSpec().getHolderIdentity()).isEqualTo("intruder");
    assertThat(after.getSpec().getLeaseTransitions())
        .isEqualTo(stolen.getSpec().getLeaseTransitions());
  }

  @Test
  void aConflictThatLeavesTheHolderInPlaceDoesNotEndTheHold() throws Exception {
    String name = uniqueName("lease:touched");
    AbstractLockService holder = service();
    LockHandle h = holder.acquireBlocking(name, Duration.ofSeconds(5));

    // An unrelated edit moves the resourceVersion; the holder's renewal must retry, not give up.
    casUpdate(
        name,
        lease ->
            new LeaseBuilder(lease)
                .editMetadata()
                .addToAnnotations("example.com/touched", "yes")
                .endMetadata()
                .build());
    Thread.sleep(LEASE.multipliedBy(2).toMillis());

    assertThat(h.isHeld()).isTrue();
    assertThat(h.lost().toCompletableFuture().isDone()).isFalse();
    assertThat(lease(name).getSpec().getHolderIdentity()).isEqualTo(h.ownerId());
    assertThat(LockService.await(h.release())).isEqualTo(ReleaseResult.RELEASED);
  }

  @Test
  void anUnreachableApiServerIsReportedAsUnavailable() {
    KubernetesClient unreachable =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:1")
                    .withConnectionTimeout(1_000)
                    .withRequestTimeout(1_000)
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
    clients.add(unreachable);
    KubernetesLeaseLockService service =
        new KubernetesLeaseLockService(
            unreachable, new KubernetesLeaseLockConfig(NAMESPACE), settings());
    try {
      assertThatThrownBy(() -> service.acquireBlocking("lease:unreachable", Duration.ofSeconds(2)))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining("KubernetesLease");
      assertThatThrownBy(() -> LockService.await(service.provision()))
          .isInstanceOf(BackendUnavailableException.class);
      BackendProbe probe = LockService.await(service.probe());
      assertThat(probe.reachable()).isFalse();
    } finally {
      service.close();
    }
  }

  @Test
  void provisionAndProbeNeedOnlyTheNamespace() {
    AbstractLockService service = service();
    LockService.await(service.provision());
    BackendProbe probe = LockService.await(service.probe());
    assertThat(probe.reachable()).isTrue();
    assertThat(probe.durableFencing()).isTrue();
    assertThat(probe.latency()).isNotNull();
    assertThat(probe.backend()).isEqualTo("KubernetesLease");
  }

  @Test
  void badConfigurationNamesTheField() {
    assertThatThrownBy(() -> new KubernetesLeaseLockConfig(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
    assertThatThrownBy(() -> new KubernetesLeaseLockConfig("Not_A_Namespace"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
  }

  @Test
  void aLeaseLongerThanTheRecordCanSayIsRefusedNamingTheField() {
    // leaseDurationSeconds is a 32-bit integer: one second more would wrap around to a negative.
    LockSettings tooLong =
        settings().withTiming(Duration.ofSeconds(Integer.MAX_VALUE + 1L), Duration.ofSeconds(10));
    assertThatThrownBy(() -> createService(tooLong, new LeaseKeeper()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("leaseDuration must be at most 2147483647 s");
  }

  // --- helpers ---

  private static long generation(Lease lease) {
    return Long.parseLong(
        lease.getMetadata().getAnnotations().get(LeaseGeneration.GENERATION_ANNOTATION));
  }

  private static void setLedgerGeneration(String value) {
    for (int i = 0; ; i++) {
      Lease ledger = admin.leases().inNamespace(NAMESPACE).withName(LeaseLedgerStore.NAME).get();
      try {
        admin
            .leases()
            .inNamespace(NAMESPACE)
            .resource(
                new LeaseBuilder(ledger)
                    .editMetadata()
                    .addToAnnotations(LeaseLedgerStore.GENERATION_ANNOTATION, value)
                    .endMetadata()
                    .build())
            .update();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || i > 20) {
          throw e;
        }
      }
    }
  }

  private static Lease lease(String lockName) {
    return admin.leases().inNamespace(NAMESPACE).withName(LeaseNames.leaseName(lockName)).get();
  }

  private static void createHeldLease(
      String lockName, String holder, int durationSeconds, int transitions, ZonedDateTime renewed) {
    admin
        .leases()
        .inNamespace(NAMESPACE)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName(LeaseNames.leaseName(lockName))
                .withLabels(
                    Map.of(
                        KubernetesLeaseLockService.MANAGED_BY_LABEL,
                        KubernetesLeaseLockService.MANAGED_BY))
                .withAnnotations(Map.of(KubernetesLeaseLockService.LOCK_NAME_ANNOTATION, lockName))
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity(holder)
                .withLeaseDurationSeconds(durationSeconds)
                .withLeaseTransitions(transitions)
                .withAcquireTime(renewed)
                .withRenewTime(renewed)
                .endSpec()
                .build())
        .create();
  }

  /** A compare-and-swap update by another party, retried if it races with the holder's renewal. */
  private static Lease casUpdate(String lockName, UnaryOperator<Lease> change) {
    for (int i = 0; ; i++) {
      try {
        return admin
            .leases()
            .inNamespace(NAMESPACE)
            .resource(change.apply(lease(lockName)))
            .update();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || i > 20) {
          throw e;
        }
      }
    }
  }
}
