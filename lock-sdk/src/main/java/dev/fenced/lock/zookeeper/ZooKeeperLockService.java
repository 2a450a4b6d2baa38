package dev.fenced.lock.zookeeper;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.Calls;
import dev.fenced.lock.support.LeaseKeeper;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.RetryUntilElapsed;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks as ZooKeeper's classic lock recipe, on Apache Curator's framework (not its recipes).
 *
 * <p>Each lock name has a persistent parent node {@code <basePath>/<encoded name>}, never deleted.
 * An acquire creates an ephemeral sequential child under it, named after the acquisition's owner id
 * so that a create whose answer was lost can be found and deleted ({@link LockNodes}); the child
 * with the lowest sequence holds, every other waits on a watch of its immediate predecessor only,
 * so a release wakes exactly one waiter. The fencing counter is the parent's offset plus the
 * child's sequence number: ZooKeeper persists the sequence with the parent and never hands the same
 * or a lower one out again under that parent, and a parent created again starts at an offset above
 * every token granted under the base path ({@link FenceFloor}).
 *
 * <p>A hold belongs to its handle, not to a thread: Curator's {@code InterProcessMutex} is not used
 * because it ties holds to threads and counts re-entry per thread.
 *
 * <p>The ZooKeeper session carries every hold of this service, and its timeout is the lease
 * duration: a crashed process's nodes vanish when its session expires on the server, a closed one's
 * at once. A hold is lost when Curator reports the session lost, or when a renewal (a check that
 * the node still exists under this session) finds it gone, or when no renewal succeeded within the
 * lease.
 */
public final class ZooKeeperLockService extends AbstractLockService {

  public static final String BACKEND = "ZooKeeper";

  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperLockService.class);
  private static final int RETRY_SLEEP_MS = 200;

  private static final long SWEEP_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final long SWEEP_GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(10);

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final String basePath;
  private final FenceFloor fenceFloor;
  private final Duration operationTimeout;
  private final Set<ZooKeeperLockHandle> handles = ConcurrentHashMap.newKeySet();
  private final Set<ZooKeeperAcquisition> pending = ConcurrentHashMap.newKeySet();
  private final ConnectionStateListener connectionListener = this::connectionChanged;
  private final AtomicLong watchEvents = new AtomicLong();
  private final AtomicBoolean warnedLongSession = new AtomicBoolean();
  private final AtomicBoolean watchingBasePath = new AtomicBoolean();
  private volatile boolean closing;

  /**
   * A service with its own ZooKeeper client: session timeout = the lease, requests fail after
   * {@link ZooKeeperLockConfig#operationTimeout()} without a connection.
   */
  public ZooKeeperLockService(
      ZooKeeperLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    this(
        newClient(config, settings),
        true,
        config.basePath(),
        config.operationTimeout(),
        settings,
        keeper);
  }

  public ZooKeeperLockService(ZooKeeperLockConfig config, LockSettings settings) {
    this(config, settings, null);
  }

  /**
   * A service on a started client that the caller owns and closes. Its session timeout should be
   * the lease duration: a longer one delays the release of a crashed holder's locks, a shorter one
   * is refused at acquire. Its retry policy bounds how long a request waits for the server. On
   * {@link #close()} the nodes of this service's open holds are deleted, since the session that
   * would otherwise end them lives on.
   */
  public ZooKeeperLockService(
      CuratorFramework client, String basePath, LockSettings settings, LeaseKeeper keeper) {
    this(
        requireStarted(client),
        false,
        ZooKeeperLockConfig.checkBasePath(basePath),
        ZooKeeperLockConfig.DEFAULT_OPERATION_TIMEOUT,
        settings,
        keeper);
  }

  private ZooKeeperLockService(
      CuratorFramework client,
      boolean ownsClient,
      String basePath,
      Duration operationTimeout,
      LockSettings settings,
      LeaseKeeper keeper) {
    super(Objects.requireNonNull(settings, "settings must be set"), keeper);
    this.client = client;
    this.ownsClient = ownsClient;
    this.basePath = basePath;
    this.fenceFloor = new FenceFloor(this, basePath);
    this.operationTimeout = operationTimeout;
    client.getConnectionStateListenable().addListener(connectionListener);
  }

  private static CuratorFramework newClient(ZooKeeperLockConfig config, LockSettings settings) {
    Objects.requireNonNull(config, "config must be set");
    Objects.requireNonNull(settings, "settings must be set");
    long leaseMs = settings.leaseDuration().toMillis();
    if (leaseMs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "leaseDuration is too long for a ZooKeeper session: " + settings.leaseDuration());
    }
    int operationMs = (int) config.operationTimeout().toMillis();
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(config.connectString())
            .sessionTimeoutMs((int) leaseMs)
            // Bounded, so a request fails within operationTimeout while the server is away
            // instead of retrying for the whole wait.
            .connectionTimeoutMs((int) Math.min(operationMs, leaseMs))
            .retryPolicy(new RetryUntilElapsed(operationMs, RETRY_SLEEP_MS))
            .build();
    client.start();
    return client;
  }

  private static CuratorFramework requireStarted(CuratorFramework client) {
    Objects.requireNonNull(client, "client must be set");
    if (client.getState() != CuratorFrameworkState.STARTED) {
      throw new IllegalArgumentException("client must be started, was " + client.getState());
    }
    return client;
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  /** The persistent node under which each lock name has its parent. */
  public String basePath() {
    return basePath;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    ZooKeeperAcquisition acquisition =
        new ZooKeeperAcquisition(this, name, LockNodes.parentPath(basePath, name), maxWait);
    pending.add(acquisition);
    return acquisition.start();
  }

  /**
   * Creates the base path; a base path that already exists is fine. Then watches it: its deletion
   * (every lock name's sequence restarts under a new one) is reported at once as a sign of another
   * incarnation ({@link #onIncarnationDoubt}).
   */
  @Override
  public CompletionStage<Void> provision() {
    watchBasePath();
    CompletableFuture<Void> done = new CompletableFuture<>();
    call(cb -> client.create().creatingParentsIfNeeded().inBackground(cb).forPath(basePath))
        .whenComplete(
            (event, error) -> {
              int code = error == null ? event.getResultCode() : 0;
              if (error == null
                  && (code == KeeperException.Code.OK.intValue()
                      || code == KeeperException.Code.NODEEXISTS.intValue())) {
                completeLater(done, null, null);
              } else {
                completeLater(done, null, basePathFailure(error, code));
              }
            });
    return done;
  }

  /** One existence watch on the base path at a time, set again after each event. */
  private void watchBasePath() {
    if (!watchingBasePath.compareAndSet(false, true)) {
      return;
    }
    call(cb ->
            client
                .checkExists()
                .usingWatcher(
                    (org.apache.zookeeper.Watcher)
                        event -> {
                          watchingBasePath.set(false);
                          if (event.getType()
                              == org.apache.zookeeper.Watcher.Event.EventType.NodeDeleted) {
                            incarnationDoubt();
                          }
                          if (!isClosedForAcquire()
                              && event.getType()
                                  != org.apache.zookeeper.Watcher.Event.EventType.None) {
                            watchBasePath();
                          }
                        })
                .inBackground(cb)
                .forPath(basePath))
        .whenComplete(
            (event, error) -> {
              if (error != null) {
                watchingBasePath.set(false);
              }
            });
  }

  /** The ledger in the base path's data; see {@link ZooKeeperLedgerStore}. */
  @Override
  public Optional<BackendLedger> ledger() {
    return Optional.of(new BackendLedger(new ZooKeeperLedgerStore(this, basePath)));
  }

  /** The failure of a call on the base path: the client's error, or the server's result code. */
  private BackendUnavailableException basePathFailure(Throwable error, int code) {
    Throwable cause =
        error != null ? error : KeeperException.create(KeeperException.Code.get(code), basePath);
    return new BackendUnavailableException(BACKEND, null, cause);
  }

  /**
   * Removes nothing: the base path's data is the ledger, which keeps the epochs of policies that
   * are gone, and its children are the lock names' parent nodes, whose sequence numbers are the
   * fencing counters. Deleting either would let a later hold get a token already issued.
   */
  @Override
  public CompletionStage<Boolean> deprovision(PolicyRecord owner, boolean sharedWithOthers) {
    return CompletableFuture.completedFuture(false);
  }

  /**
   * One round trip (an existence check of the base path) for the latency, and the {@code srvr}
   * four-letter word for the server version when the server allows it. Fencing is durable: the
   * sequence lives in ZooKeeper's snapshot and transaction log.
   */
  @Override
  public CompletionStage<BackendProbe> probe() {
    CompletableFuture<BackendProbe> result = new CompletableFuture<>();
    long start = System.nanoTime();
    CompletableFuture<Stat> roundTrip;
    try {
      roundTrip = exists(basePath);
    } catch (RuntimeException e) {
      roundTrip = CompletableFuture.failedFuture(e);
    }
    roundTrip.whenComplete(
        (stat, error) -> {
          if (error != null) {
            result.complete(BackendProbe.down(BACKEND, error));
            return;
          }
          Duration latency = Duration.ofNanos(System.nanoTime() - start);
          String where = stat == null ? "; " + basePath + " not provisioned yet" : "";
          callbacks()
              .execute(
                  () -> {
                    String detail =
                        serverVersion()
                            + ", session timeout "
                            + negotiatedSessionTimeoutMs()
                            + " ms"
                            + where;
                    result.complete(BackendProbe.up(BACKEND, latency, true, detail));
                  });
        });
    return result;
  }

  /** Blocking: runs on the callback threads, never on ZooKeeper's or a caller's. */
  private String serverVersion() {
    try {
      List<InetSocketAddress> servers =
          new ConnectStringParser(client.getZookeeperClient().getCurrentConnectionString())
              .getServerAddresses();
      for (InetSocketAddress server : servers) {
        try {
          String answer =
              FourLetterWordMain.send4LetterWord(
                  server.getHostString(), server.getPort(), "srvr", false, 1000);
          for (String line : answer.split("\n")) {
            if (line.startsWith("Zookeeper version:")) {
              String version = line.substring("Zookeeper version:".length()).trim();
              int cut = version.indexOf('-');
              return "ZooKeeper " + (cut > 0 ? version.substring(0, cut) : version);
            }
          }
        } catch (Exception e) {
          LOG.debug("srvr on {} failed", server, e);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("cannot parse the connect string for srvr", e);
    }
    return "ZooKeeper (version unknown: srvr not allowed)";
  }

  @Override
  protected void closeBackend() {
    closing = true;
    client.getConnectionStateListenable().removeListener(connectionListener);
    for (ZooKeeperAcquisition acquisition : List.copyOf(pending)) {
      acquisition.abort(new IllegalStateException("the lock service was closed"));
    }
    if (ownsClient) {
      // Closing the session deletes this service's nodes on the server at once.
      client.close();
    }
  }

  // ---- for handles and acquisitions ----

  CuratorFramework client() {
    return client;
  }

  /** The offsets of lock names' parents and the floor they start above. */
  FenceFloor fenceFloor() {
    return fenceFloor;
  }

  /** How long one request may take, retries included, before it fails. */
  Duration operationTimeout() {
    return operationTimeout;
  }

  /**
   * Deletes the children of {@code parentPath} that an acquisition of {@code ownerId} may have
   * left: a create whose answer was lost may still have made one, and an ephemeral node lives as
   * long as the session. While ZooKeeper cannot be asked, tries again, for up to ten minutes (an
   * expired session takes its nodes with it anyway).
   */
  void removeNodesOf(String parentPath, String ownerId) {
    removeNodesOf(parentPath, LockNodes.ownerPrefix(ownerId), System.nanoTime());
  }

  private void removeNodesOf(String parentPath, String prefix, long since) {
    if (isClosed()) {
      return;
    }
    call(cb -> client.getChildren().inBackground(cb).forPath(parentPath))
        .whenComplete(
            (event, error) -> {
              int code = error == null ? event.getResultCode() : Integer.MIN_VALUE;
              if (code == KeeperException.Code.OK.intValue()) {
                for (String child : event.getChildren()) {
                  if (child.startsWith(prefix)) {
                    deleteGuaranteed(ZKPaths.makePath(parentPath, child));
                  }
                }
              } else if (code != KeeperException.Code.NONODE.intValue()
                  && System.nanoTime() - since < SWEEP_GIVE_UP_NANOS
                  && !isClosed()) {
                try {
                  keeper.schedule(
                      () -> removeNodesOf(parentPath, prefix, since), SWEEP_RETRY_NANOS);
                } catch (RuntimeException closing) {
                  LOG.debug("not looking for the nodes of {} any more", prefix, closing);
                }
              }
            });
  }

  boolean isConnected() {
    return client.getZookeeperClient().isConnected();
  }

  /**
   * The session the client uses now, or 0 when it cannot say. A request answered while this is
   * still the session that owns a node proves that session was alive when the request was sent.
   */
  long currentSessionId() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  boolean isClosedForAcquire() {
    return closing || isClosed();
  }

  int negotiatedSessionTimeoutMs() {
    int granted = client.getZookeeperClient().getLastNegotiatedSessionTimeoutMs();
    if (granted > settings.leaseDuration().toMillis()
        && warnedLongSession.compareAndSet(false, true)) {
      LOG.warn(
          "ZooKeeper granted a session timeout of {} ms, longer than the lease ({}): a crashed"
              + " holder's locks are freed only after the session timeout",
          granted,
          settings.leaseDuration());
    }
    return granted;
  }

  ZooKeeperLockHandle won(
      String name, long sequence, String ownerId, long sentAtNanos, String nodePath, long session) {
    ZooKeeperLockHandle handle =
        new ZooKeeperLockHandle(
            this, name, token(sequence), ownerId, settings, keeper, sentAtNanos, nodePath, session);
    handles.add(handle);
    return started(handle);
  }

  void finished(ZooKeeperAcquisition acquisition) {
    pending.remove(acquisition);
  }

  void ended(ZooKeeperLockHandle handle) {
    handles.remove(handle);
  }

  /** A hold ended without release or loss (the service closed): delete its node. */
  void abandoned(String nodePath) {
    if (!ownsClient) {
      deleteGuaranteed(nodePath);
    }
  }

  void watchFired() {
    watchEvents.incrementAndGet();
  }

  /** How many predecessor watches of this service have fired: one per wake-up, no herd. */
  long watchEvents() {
    return watchEvents.get();
  }

  /**
   * Completes {@code future} on the service's callback threads, never on Curator's event thread (a
   * continuation that blocks there would stall every watch and answer of the client).
   */
  <T> void completeLater(CompletableFuture<T> future, T value, Throwable error) {
    callbacks()
        .execute(
            () -> {
              if (error != null) {
                future.completeExceptionally(error);
              } else {
                future.complete(value);
              }
            });
  }

  /** A background request as a future of its event; failures to even start it fail the future. */
  CompletableFuture<CuratorEvent> call(Request request) {
    return Calls.start(
        () -> {
          CompletableFuture<CuratorEvent> answer = new CompletableFuture<>();
          try {
            request.start((c, event) -> answer.complete(event));
          } catch (Exception e) {
            answer.completeExceptionally(e);
          }
          return answer;
        });
  }

  /** The node's stat, or null when it does not exist. */
  CompletableFuture<Stat> exists(String path) {
    return call(cb -> client.checkExists().inBackground(cb).forPath(path))
        .thenApply(event -> presentOrNull(event, path, CuratorEvent::getStat));
  }

  /** The answer to a read of the node's data (data and stat), or null when it does not exist. */
  CompletableFuture<CuratorEvent> data(String path) {
    return call(cb -> client.getData().inBackground(cb).forPath(path))
        .thenApply(event -> presentOrNull(event, path, answer -> answer));
  }

  /** What an answer gives when the node exists, null when it does not; fails on any other code. */
  private static <T> T presentOrNull(
      CuratorEvent event, String path, Function<CuratorEvent, T> value) {
    KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
    if (code == KeeperException.Code.OK) {
      return value.apply(event);
    }
    if (code == KeeperException.Code.NONODE) {
      return null;
    }
    throw new CompletionException(KeeperException.create(code, path));
  }

  /**
   * Deletes a node of ours; Curator keeps retrying in the background after a connection loss (so a
   * release that could not reach the server still frees the lock once it can). Completes with OK,
   * NONODE, or the error of the first attempt.
   */
  CompletableFuture<KeeperException.Code> deleteGuaranteed(String path) {
    return call(cb -> client.delete().guaranteed().inBackground(cb).forPath(path))
        .thenApply(event -> KeeperException.Code.get(event.getResultCode()));
  }

  private void connectionChanged(CuratorFramework c, ConnectionState state) {
    switch (state) {
      case LOST -> {
        for (ZooKeeperLockHandle handle : List.copyOf(handles)) {
          handle.sessionEnded("the ZooKeeper session ended; its nodes are gone");
        }
      }
      case RECONNECTED -> {
        for (ZooKeeperAcquisition acquisition : List.copyOf(pending)) {
          acquisition.recheck();
        }
      }
      default -> {
        // SUSPENDED: renewals fail meanwhile and the local lease deadline decides.
      }
    }
  }

  /** Starts one Curator background request with the given callback. */
  @FunctionalInterface
  interface Request {
    void start(BackgroundCallback callback) throws Exception;
  }
}
