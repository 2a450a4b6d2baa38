package dev.fenced.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lock contract, and what is ZooKeeper's own, on the real ZooKeeper the script starts. */
class ZooKeeperLockServiceIT extends LockServiceContract {

  private static final String BASE = "/fenced-it/locks";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<AutoCloseable> extra = new ArrayList<>();
  private CuratorFramework inspector;

  /**
   * The session timeout is the lease. A 2 s session has its client ping every 0.7 s and give up
   * after 1.3 s without an answer, which a loaded machine (or the server's own transaction log
   * sync) can miss, and then every hold of the session is lost. Twice that leaves room, and every
   * case still measures against the lease it runs with.
   */
  @Override
  protected Duration lease() {
    return Duration.ofSeconds(4);
  }

  @Override
  protected Duration renew() {
    return Duration.ofSeconds(1);
  }

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return new ZooKeeperLockService(
        new ZooKeeperLockConfig(TestServers.zkConnect(), BASE), settings, keeper);
  }

  @Override
  protected void stopBackend() {
    TestServers.backends("down", "zookeeper");
  }

  @Override
  protected void startBackend() {
    TestServers.backends("up", "zookeeper");
  }

  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) throws Exception {
    inspector().delete().forPath(((ZooKeeperLockHandle) holder).nodePath());
  }

  /**
   * A stalled process sends no heartbeats, so its session expires on the server. ZooKeeper's own
   * way to end a session from outside (its FAQ, and Curator's test utilities before 3.0): attach a
   * second connection to the same session id and password, and close it. The server then closes the
   * session and deletes its ephemeral nodes, exactly as on expiry; the stalled holder learns of it
   * from ZooKeeper (session expired), while its renewals stay paused.
   */
  @Override
  protected void simulatePause(AbstractLockService service, LockHandle holder) {
    service.keeper().pause();
    ZooKeeperLockService zk = (ZooKeeperLockService) service;
    ZooKeeperLockHandle handle = (ZooKeeperLockHandle) holder;
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              closeSessionFromOutside(zk, handle.sessionId());
              return inspector().checkExists().forPath(handle.nodePath()) == null;
            });
  }

  private static void closeSessionFromOutside(ZooKeeperLockService service, long sessionId)
      throws Exception {
    ZooKeeper victim = service.client().getZookeeperClient().getZooKeeper();
    if (victim.getSessionId() != sessionId) {
      return; // already a new session: the old one is gone
    }
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin =
        new ZooKeeper(
            TestServers.zkConnect(),
            victim.getSessionTimeout(),
            event -> {
              if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            sessionId,
            victim.getSessionPasswd());
    try {
      connected.await(5, TimeUnit.SECONDS);
    } finally {
      twin.close();
    }
  }

  @BeforeEach
  void openInspector() throws InterruptedException {
    inspector();
  }

  @AfterEach
  void closeExtra() throws Exception {
    for (AutoCloseable c : extra) {
      try {
        c.close();
      } catch (RuntimeException ignored) {
        // a stopped server may refuse a clean close
      }
    }
    extra.clear();
    if (inspector != null) {
      inspector.close();
      inspector = null;
    }
  }

  private CuratorFramework inspector() throws InterruptedException {
    if (inspector == null) {
      inspector =
          CuratorFrameworkFactory.builder()
              .connectString(TestServers.zkConnect())
              .sessionTimeoutMs(10_000)
              .connectionTimeoutMs(5_000)
              .retryPolicy(new RetryNTimes(20, 250))
              .build();
      inspector.start();
      inspector.blockUntilConnected(30, TimeUnit.SECONDS);
    }
    return inspector;
  }

  private ZooKeeperLockService zkService() {
    return zkService(settings());
  }

  private ZooKeeperLockService zkService(LockSettings settings) {
    ZooKeeperLockService service = (ZooKeeperLockService) createService(settings, null);
    extra.add(service);
    LockService.await(service.provision());
    return service;
  }

  /** The lock's children, oldest sequence first. */
  private List<String> nodes(String name) throws Exception {
    String parent = LockNodes.parentPath(BASE, name);
    if (inspector().checkExists().forPath(parent) == null) {
      return List.of();
    }
    return LockNodes.sorted(inspector().getChildren().forPath(parent));
  }

  private void awaitNodes(String name, int count) {
    await().atMost(WAIT).until(() -> nodes(name).size() == count);
  }

  private static LockHandle get(CompletableFuture<LockHandle> f) throws Exception {
    return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private long floor() throws Exception {
    return FenceFloor.parse(
        inspector().getData().forPath(ZKPaths.makePath(BASE, FenceFloor.NODE)), "floor", "");
  }

  @Test
  void aDeletedParentIsCreatedAgainAboveEveryTokenItIssued() throws Exception {
    ZooKeeperLockService first = zkService();
    String name = uniqueName("zk:parent-deleted");
    long last = 0;
    long lastSequence = -1;
    for (int i = 0; i < 3; i++) {
      LockHandle h = first.acquireBlocking(name, MAX_WAIT);
      last = h.fencingToken();
      lastSequence = LockNodes.sequence(((ZooKeeperLockHandle) h).nodePath());
      LockService.await(h.release());
    }

    inspector().delete().deletingChildrenIfNeeded().forPath(LockNodes.parentPath(BASE, name));
    // A service that never met the old parent, and the one that did (its cache is of the old one).
    List<Long> sequences = new ArrayList<>();
    for (ZooKeeperLockService service : List.of(zkService(), first)) {
      LockHandle next = service.acquireBlocking(name, MAX_WAIT);
      sequences.add(LockNodes.sequence(((ZooKeeperLockHandle) next).nodePath()));
      assertThat(next.fencingToken()).isGreaterThan(last);
      assertThat(FencingTokens.counter(next.fencingToken())).isLessThan(floor() + FenceFloor.STEP);
      last = next.fencingToken();
      LockService.await(next.release());
    }
    // The damage the offset repairs: the new parent numbered its children from 0 again.
    assertThat(sequences.get(0)).isZero().isLessThan(lastSequence);
  }

  @Test
  void aParentWithoutAnOffsetCountsFromZeroAndAHighCounterRaisesTheFloorBeforeItsHold()
      throws Exception {
    ZooKeeperLockService service = zkService();
    String legacy = uniqueName("zk:legacy-parent");
    inspector()
        .create()
        .creatingParentsIfNeeded()
        .forPath(LockNodes.parentPath(BASE, legacy), new byte[0]);
    LockHandle fromZero = service.acquireBlocking(legacy, MAX_WAIT);
    assertThat(FencingTokens.counter(fromZero.fencingToken()))
        .isEqualTo(LockNodes.sequence(((ZooKeeperLockHandle) fromZero).nodePath()));
    LockService.await(fromZero.release());

    String high = uniqueName("zk:high-offset");
    long offset = floor() + 5 * FenceFloor.STEP + 7;
    inspector()
        .create()
        .forPath(
            LockNodes.parentPath(BASE, high),
            Long.toString(offset).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    LockHandle h = service.acquireBlocking(high, MAX_WAIT);
    assertThat(FencingTokens.counter(h.fencingToken())).isEqualTo(offset);
    assertThat(floor()).isGreaterThan(offset - FenceFloor.STEP);
    LockService.await(h.release());

    inspector().delete().deletingChildrenIfNeeded().forPath(LockNodes.parentPath(BASE, high));
    LockHandle again = zkService().acquireBlocking(high, MAX_WAIT);
    assertThat(FencingTokens.counter(again.fencingToken())).isGreaterThan(offset);
    LockService.await(again.release());
  }

  @Test
  void aNameHeldPastAStepRaisesTheFloorBeforeEachHoldThatNeedsIt() throws Exception {
    ZooKeeperLockService service = zkService();
    String name = uniqueName("zk:past-a-step");
    long last = 0;
    // Each hold adds 1 to the parent's sequence: more holds than a step cross at least one
    // multiple of the step after this service cached the parent's offset.
    for (int i = 0; i < FenceFloor.STEP + 100; i++) {
      LockHandle h = service.acquireBlocking(name, MAX_WAIT);
      assertThat(h.fencingToken()).isGreaterThan(last);
      assertThat(FencingTokens.counter(h.fencingToken())).isLessThan(floor() + FenceFloor.STEP);
      last = h.fencingToken();
      LockService.await(h.release());
    }
  }

  @Test
  void aParentWhoseDataIsNoOffsetFailsTheAcquireNamingTheNode() throws Exception {
    String name = uniqueName("zk:bad-offset");
    String parent = LockNodes.parentPath(BASE, name);
    inspector().create().forPath(parent, "cats".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    assertThatThrownBy(() -> zkService().acquireBlocking(name, MAX_WAIT))
        .hasStackTraceContaining("the data of " + parent + " is not a fencing offset")
        .hasStackTraceContaining("'cats'");
    assertThat(nodes(name)).isEmpty();
  }

  @Test
  void waitersAreServedInSequenceOrder() throws Exception {
    String name = uniqueName("zk:order");
    LockHandle holder = zkService().acquireBlocking(name, MAX_WAIT);
    List<CompletableFuture<LockHandle>> waiting = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      // Each waiter on its own client, queued only after the one before it has its node.
      waiting.add(zkService().acquire(name, MAX_WAIT).toCompletableFuture());
      awaitNodes(name, i + 2);
    }

    long last = holder.fencingToken();
    LockService.await(holder.release());
    for (int i = 0; i < waiting.size(); i++) {
      LockHandle next = get(waiting.get(i));
      assertThat(next.fencingToken()).isGreaterThan(last);
      last = next.fencingToken();
      for (int j = i + 1; j < waiting.size(); j++) {
        assertThat(waiting.get(j)).as("waiter %d while %d holds", j, i).isNotDone();
      }
      assertThat(LockService.await(next.release())).isEqualTo(ReleaseResult.RELEASED);
    }
    assertThat(nodes(name)).isEmpty();
  }

  @Test
  void eachWaiterWatchesOnlyItsPredecessor() throws Exception {
    String name = uniqueName("zk:herd");
    LockHandle holder = zkService().acquireBlocking(name, MAX_WAIT);
    ZooKeeperLockService s1 = zkService();
    ZooKeeperLockService s2 = zkService();
    ZooKeeperLockService s3 = zkService();
    CompletableFuture<LockHandle> w1 = s1.acquire(name, MAX_WAIT).toCompletableFuture();
    awaitNodes(name, 2);
    CompletableFuture<LockHandle> w2 = s2.acquire(name, MAX_WAIT).toCompletableFuture();
    awaitNodes(name, 3);
    CompletableFuture<LockHandle> w3 = s3.acquire(name, MAX_WAIT).toCompletableFuture();
    awaitNodes(name, 4);
    List<String> queue = nodes(name);

    // Remove the middle waiter's node: only its successor hears of it, and only re-links.
    inspector().delete().forPath(ZKPaths.makePath(LockNodes.parentPath(BASE, name), queue.get(2)));
    await().atMost(WAIT).until(() -> s3.watchEvents() == 1);
    Thread.sleep(300);
    assertThat(s1.watchEvents()).isZero();
    assertThat(s2.watchEvents()).isZero();
    assertThat(List.of(w1, w2, w3)).noneMatch(CompletableFuture::isDone);
    assertThat(holder.isHeld()).isTrue();
    assertThat(nodes(name)).containsExactly(queue.get(0), queue.get(1), queue.get(3));

    // The holder's release wakes its successor and nobody else.
    LockService.await(holder.release());
    LockHandle first = get(w1);
    Thread.sleep(300);
    assertThat(s1.watchEvents()).isEqualTo(1);
    assertThat(s3.watchEvents()).as("w3 watches w1, not the holder").isEqualTo(1);
    assertThat(w2).isNotDone();
    assertThat(w3).isNotDone();

    // w1's node was the predecessor of both w3 and the lost w2: w3 holds next, w2 queues again.
    LockService.await(first.release());
    LockHandle second = get(w3);
    assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(w2).isNotDone();
    LockService.await(second.release());
    LockHandle third = get(w2);
    assertThat(third.fencingToken()).isGreaterThan(second.fencingToken());
    LockService.await(third.release());
  }

  @Test
  void aWaiterThatTimesOutLeavesNoNodeBehind() throws Exception {
    String name = uniqueName("zk:timeout");
    ZooKeeperLockService holderService = zkService();
    ZooKeeperLockService waiter = zkService();
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);

    assertThatThrownBy(() -> waiter.acquireBlocking(name, Duration.ofMillis(300)))
        .isInstanceOf(LockTimeoutException.class);
    assertThatThrownBy(() -> waiter.acquireBlocking(name, Duration.ZERO))
        .isInstanceOf(LockTimeoutException.class);
    await()
        .atMost(WAIT)
        .until(() -> nodes(name).equals(List.of(ZKPaths.getNodeFromPath(nodePath(holder)))));

    LockService.await(holder.release());
    // A zero wait still tries once.
    LockHandle now = waiter.acquireBlocking(name, Duration.ZERO);
    assertThat(now.fencingToken()).isGreaterThan(holder.fencingToken());
    LockService.await(now.release());
    assertThat(nodes(name)).isEmpty();
  }

  @Test
  void aWaiterThatTimesOutLeavesNoWatchBehind() throws Exception {
    String name = uniqueName("zk:watch");
    ZooKeeperLockService holderService = zkService();
    ZooKeeperLockService waiter = zkService();
    LockHandle holder = holderService.acquireBlocking(name, MAX_WAIT);
    String watched = nodePath(holder);

    // The waiter watches the holder's node, then its time runs out.
    CompletableFuture<LockHandle> waiting =
        waiter.acquire(name, Duration.ofSeconds(2)).toCompletableFuture();
    await().atMost(WAIT).until(() -> dataWatches(waiter).contains(watched));
    assertThatThrownBy(() -> waiting.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
        .hasCauseInstanceOf(LockTimeoutException.class);

    // Its watch goes with it, on the client and on the server: timed-out waiters must not pile up
    // watches on a node that is held for long.
    await().atMost(WAIT).until(() -> !dataWatches(waiter).contains(watched));
    LockService.await(holder.release());
  }

  /** The paths the service's ZooKeeper client holds data watches on. */
  @SuppressWarnings("unchecked")
  private static List<String> dataWatches(ZooKeeperLockService service) throws Exception {
    ZooKeeper zk = service.client().getZookeeperClient().getZooKeeper();
    Method watches = ZooKeeper.class.getDeclaredMethod("getDataWatches");
    watches.setAccessible(true);
    return (List<String>) watches.invoke(zk);
  }

  @Test
  void aHolderWhoseClientClosesFreesTheLockAtOnce() throws Exception {
    // A session far longer than the wait below: only the closed session can free the lock in time.
    LockSettings longLease = settings().withTiming(Duration.ofSeconds(40), Duration.ofSeconds(10));
    ZooKeeperLockService holderService = zkService(longLease);
    ZooKeeperLockService next = zkService(longLease);
    String name = uniqueName("zk:close");
    LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);

    holderService.close();

    LockHandle after = next.acquireBlocking(name, Duration.ofSeconds(5));
    assertThat(after.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(held.lost().toCompletableFuture().get(5, TimeUnit.SECONDS).reason())
        .isEqualTo(LockLoss.Reason.SESSION_ENDED);
    LockService.await(after.release());
  }

  @Test
  void onABorrowedClientCloseDeletesTheOpenHoldsButLeavesTheClientOpen() throws Exception {
    CuratorFramework shared =
        CuratorFrameworkFactory.builder()
            .connectString(TestServers.zkConnect())
            .sessionTimeoutMs((int) lease().toMillis())
            .connectionTimeoutMs(2_000)
            .retryPolicy(new RetryNTimes(3, 200))
            .build();
    extra.add(shared);
    shared.start();
    ZooKeeperLockService borrowing =
        new ZooKeeperLockService(shared, BASE, settings(), new LeaseKeeper());
    extra.add(borrowing);
    ZooKeeperLockService other = zkService();
    String name = uniqueName("zk:borrowed");
    LockHandle held = borrowing.acquireBlocking(name, MAX_WAIT);

    borrowing.close();

    // The shared session lives on, so only the deleted node lets the next holder in.
    LockHandle after = other.acquireBlocking(name, Duration.ofSeconds(5));
    assertThat(after.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(shared.getZookeeperClient().isConnected()).isTrue();
    LockService.await(after.release());
  }

  @Test
  void aLeaseLongerThanTheSessionTheServerGrantsIsRefused() {
    // The script's server caps sessions at 60 s.
    ZooKeeperLockService service =
        zkService(settings().withTiming(Duration.ofSeconds(90), Duration.ofSeconds(10)));
    String name = uniqueName("zk:long-lease");

    assertThatThrownBy(() -> service.acquireBlocking(name, Duration.ofSeconds(5)))
        .isInstanceOf(InvalidLockPolicyException.class)
        .hasMessageContaining("leaseDuration");
    await().atMost(WAIT).until(() -> nodes(name).isEmpty());
  }

  /**
   * A release sent while the server is down fails, but a session outlives a short restart, and so
   * does the hold's ephemeral node: unless the delete is sent again once the server is back, the
   * lock stays taken for as long as the holder's process runs.
   */
  @Test
  void aReleaseThatFailedWhileTheServerWasDownIsCarriedOutWhenItIsBack() throws Exception {
    LockSettings longSession = settings().withTiming(Duration.ofSeconds(30), Duration.ofSeconds(5));
    ZooKeeperLockService holder = zkService(longSession);
    ZooKeeperLockService other = zkService(longSession);
    String name = uniqueName("zk:release-while-down");
    LockHandle held = holder.acquireBlocking(name, MAX_WAIT);
    String node = ((ZooKeeperLockHandle) held).nodePath();
    long session = ((ZooKeeperLockHandle) held).sessionId();

    stopBackend();
    try {
      CompletableFuture<ReleaseResult> release = held.release().toCompletableFuture();
      assertThatThrownBy(() -> release.get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(BackendUnavailableException.class);
    } finally {
      startBackend();
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> holder.isConnected() && other.isConnected());
    LockHandle next = other.acquireBlocking(name, Duration.ofSeconds(15));
    assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
    assertThat(inspector().checkExists().forPath(node)).isNull();
    // The holder's session lived through the restart: its node went because it was deleted.
    assertThat(holder.currentSessionId()).isEqualTo(session);
    LockService.await(next.release());
  }

  /**
   * A create answered only after the client sent it again (its first answer lost while the server
   * restarted) can leave a second node of the same acquire in the same session. An acquire that
   * then gives up must take that node with it: the session lives on, and so would the node, ahead
   * of every later waiter. Here the second node is made by hand, in the waiter's session.
   */
  @Test
  void anAcquireThatGivesUpLeavesNoNodeOfItsOwnerBehindNotEvenASecondOne() throws Exception {
    ZooKeeperLockService holderService = zkService();
    ZooKeeperLockService waiterService = zkService();
    ZooKeeperLockService other = zkService();
    String name = uniqueName("zk:second-node");
    String parent = LockNodes.parentPath(BASE, name);
    LockHandle held = holderService.acquireBlocking(name, MAX_WAIT);
    CompletableFuture<LockHandle> waiting =
        waiterService.acquire(name, Duration.ofSeconds(3)).toCompletableFuture();
    await().atMost(WAIT).until(() -> nodes(name).size() == 2);
    String waiterNode = nodes(name).get(1);
    // The node's name is the owner's prefix, then a sequence of ten digits.
    String prefix = waiterNode.substring(0, waiterNode.length() - 10);
    waiterService
        .client()
        .create()
        .withMode(org.apache.zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL)
        .forPath(ZKPaths.makePath(parent, prefix), new byte[0]);
    assertThat(nodes(name)).hasSize(3);

    assertThatThrownBy(() -> waiting.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
        .hasCauseInstanceOf(dev.fenced.lock.LockTimeoutException.class);
    assertThat(LockService.await(held.release())).isEqualTo(ReleaseResult.RELEASED);

    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(nodes(name)).noneMatch(node -> node.startsWith(prefix)));
    LockHandle next = other.acquireBlocking(name, Duration.ofSeconds(5));
    assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
    LockService.await(next.release());
  }

  @Test
  void tokensSurviveAServerRestartAndTheProbeReportsBothStates() throws Exception {
    ZooKeeperLockService service = zkService();
    String name = uniqueName("zk:durable");
    LockHandle before = service.acquireBlocking(name, MAX_WAIT);
    LockService.await(before.release());

    BackendProbe up = LockService.await(service.probe());
    assertThat(up.reachable()).isTrue();
    assertThat(up.durableFencing()).isTrue();
    assertThat(up.latency()).isNotNull();
    assertThat(up.detail()).startsWith("ZooKeeper 3.");

    stopBackend();
    try {
      BackendProbe down = LockService.await(service.probe());
      assertThat(down.reachable()).isFalse();
      assertThat(down.backend()).isEqualTo(ZooKeeperLockService.BACKEND);
    } finally {
      startBackend();
    }

    LockHandle after =
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .until(() -> service.acquireBlocking(name, Duration.ofSeconds(2)), h -> true);
    assertThat(after.fencingToken()).isGreaterThan(before.fencingToken());
    LockService.await(after.release());
  }

  @Test
  void provisionIsIdempotentAcrossClients() throws Exception {
    // A base path nobody has created yet, provisioned by three clients at once, twice each.
    String base = "/fenced-it/provision-" + UUID.randomUUID();
    List<ZooKeeperLockService> services = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ZooKeeperLockService service =
          new ZooKeeperLockService(
              new ZooKeeperLockConfig(TestServers.zkConnect(), base), settings(), null);
      extra.add(service);
      services.add(service);
    }
    provisionAllAtOnce(services);
    Stat created = inspector().checkExists().forPath(base);
    assertThat(created).as("the base path").isNotNull();

    String name = uniqueName("zk:provision");
    LockHandle before = services.get(0).acquireBlocking(name, MAX_WAIT);
    LockService.await(before.release());
    String parent = LockNodes.parentPath(base, name);
    Stat lockParent = inspector().checkExists().forPath(parent);

    // Provisioning again, over a base path that now holds a lock's parent, touches neither: the
    // same nodes (same creation zxid), so the sequence behind the tokens goes on from where it was.
    provisionAllAtOnce(services);
    assertThat(inspector().checkExists().forPath(base).getCzxid()).isEqualTo(created.getCzxid());
    assertThat(inspector().checkExists().forPath(parent).getCzxid())
        .isEqualTo(lockParent.getCzxid());
    assertThat(inspector().getChildren().forPath(base))
        .containsExactlyInAnyOrder(ZKPaths.getNodeFromPath(parent), FenceFloor.NODE);
    LockHandle after = services.get(2).acquireBlocking(name, MAX_WAIT);
    assertThat(after.fencingToken()).isGreaterThan(before.fencingToken());
    LockService.await(after.release());
  }

  private static void provisionAllAtOnce(List<ZooKeeperLockService> services) throws Exception {
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    for (ZooKeeperLockService service : services) {
      runs.add(service.provision().toCompletableFuture());
      runs.add(service.provision().toCompletableFuture());
    }
    CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  @Test
  void lockNamesMapToDistinctValidNodes() {
    assertThat(LockNodes.encode("vote:cats-vs-dogs:cat")).isEqualTo("vote:cats-vs-dogs:cat");
    assertThat(LockNodes.encode("..")).isEqualTo("%2E%2E");
    assertThat(LockNodes.encode("a/b")).isNotEqualTo(LockNodes.encode("a%2Fb"));
    assertThat(LockNodes.encode("ü")).isEqualTo("%C3%BC");
    assertThat(LockNodes.sequence("_c_0b3c-4d-lock-0000000042")).isEqualTo(42);
    assertThat(LockNodes.sequence("lock--2147483648")).isEqualTo(-1);
  }

  private static String nodePath(LockHandle handle) {
    return ((ZooKeeperLockHandle) handle).nodePath();
  }
}
