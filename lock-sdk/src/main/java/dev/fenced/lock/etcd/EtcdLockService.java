package dev.fenced.lock.etcd;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockLoss;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.PolicyRecord;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.Calls;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.LeaseKeeper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks on etcd, after etcd's own concurrency mutex: every acquire queues a key under {@code
 * <prefix>/<encoded name>/}, bound to the service's one lease ({@link EtcdSessionLease}); the key
 * with the lowest create revision holds, and each waiter watches only the key just ahead of it, so
 * waiters are served in the order they queued. The fencing token is the holder key's create
 * revision: etcd's global revision, persisted and raised by every write, so it grows across
 * holders, processes, client and server restarts.
 *
 * <p>The lease is kept alive by one {@code keepAliveOnce} per {@link LockSettings#renewInterval()}
 * on the service's {@link LeaseKeeper} (and each hold renews it with its own check), not jetcd's
 * background keep-alive, so a paused process stops renewing exactly as it would in life. A lease
 * not kept alive within {@code leaseDuration} is retired: all its holds are lost, and later
 * acquires get a new lease. A crashed service's keys go when etcd expires its lease; {@link
 * #close()} revokes it.
 *
 * <p>The service builds and owns a jetcd {@link Client} whose calls carry a deadline of {@link
 * EtcdLockConfig#requestTimeout()}; a client passed in stays the caller's and is only bounded on
 * this side.
 */
public final class EtcdLockService extends AbstractLockService {

  public static final String BACKEND = "Etcd";

  private static final Logger LOG = LoggerFactory.getLogger(EtcdLockService.class);
  private static final int LAYOUT = 1;

  /** etcd refuses longer lease TTLs ({@code MaxLeaseTTL}). */
  private static final long MAX_TTL_SECONDS = 9_000_000_000L;

  private final EtcdLockConfig config;
  private final EtcdKeys keys;
  private final EtcdConnection connection;
  private final long ttlSeconds;

  private final EtcdOrphanSweeper orphans = new EtcdOrphanSweeper(this);
  private final EtcdQueueWatches queueWatches = new EtcdQueueWatches(this);
  private volatile boolean shutDown;

  /** The service's lease while it is usable, or null; a grant under way, or null. */
  private volatile EtcdSessionLease lease;

  private CompletableFuture<EtcdSessionLease> granting;

  /** Builds and owns its own jetcd client. */
  public EtcdLockService(EtcdLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    this(
        EtcdConnection.owned(
            () -> EtcdCalls.newClient(Objects.requireNonNull(config, "config must be set")),
            config.requestTimeout().toMillis() + 1000),
        config,
        settings,
        keeper);
  }

  public EtcdLockService(EtcdLockConfig config, LockSettings settings) {
    this(config, settings, null);
  }

  /**
   * Uses a client the caller built and keeps owning (it is not closed by {@link #close()}). Give it
   * call deadlines of its own if it should fail fast while etcd is down; this service bounds each
   * call by {@link EtcdLockConfig#requestTimeout()} on its side only.
   */
  public EtcdLockService(
      Client client, EtcdLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    this(
        EtcdConnection.borrowed(Objects.requireNonNull(client, "client must be set")),
        config,
        settings,
        keeper);
  }

  private EtcdLockService(
      EtcdConnection connection, EtcdLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    super(Objects.requireNonNull(settings, "settings must be set"), keeper);
    this.config = Objects.requireNonNull(config, "config must be set");
    this.keys = new EtcdKeys(config.keyPrefix());
    this.connection = connection;
    long leaseMillis = settings.leaseDuration().toMillis();
    // Whole seconds, rounded up; etcd raises TTLs below its minimum (about 1.5 election timeouts,
    // 2 s with default settings) itself, which only makes a crashed hold linger longer.
    this.ttlSeconds = Math.max(1, (leaseMillis + 999) / 1000);
    if (ttlSeconds > MAX_TTL_SECONDS) {
      throw new IllegalArgumentException(
          "leaseDuration must be at most "
              + MAX_TTL_SECONDS
              + " s for an etcd lease, was "
              + settings.leaseDuration());
    }
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  /** The configuration this service was built with. */
  public EtcdLockConfig config() {
    return config;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    return new EtcdAcquisition(this, name, maxWait).start();
  }

  /**
   * Writes the marker {@code <prefix>/.policy} if absent, in one transaction, so concurrent
   * provisioning is harmless. An existing marker with another key layout fails the provisioning.
   */
  @Override
  public CompletionStage<Void> provision() {
    ByteSequence marker = keys.marker();
    String record =
        "{\"layout\":"
            + LAYOUT
            + ",\"keys\":\""
            + keys.prefix()
            + "/<name>/<lease hex>-<slot>\",\"holder\":\"lowest create revision\","
            + "\"fencing\":\"create revision\"}";
    return typed(
        () ->
            call(() ->
                    client()
                        .getKVClient()
                        .txn()
                        .If(new Cmp(marker, Cmp.Op.EQUAL, CmpTarget.version(0)))
                        .Then(Op.put(marker, EtcdKeys.bytes(record), PutOption.DEFAULT))
                        .Else(Op.get(marker, GetOption.DEFAULT))
                        .commit())
                .thenApply(
                    txn -> {
                      if (!txn.isSucceeded()) {
                        var kvs = txn.getGetResponses().get(0).getKvs();
                        String existing =
                            kvs.isEmpty()
                                ? ""
                                : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
                        if (!existing.contains("\"layout\":" + LAYOUT + ",")) {
                          throw new InvalidLockPolicyException(
                              null,
                              "keyPrefix "
                                  + keys.prefix()
                                  + " is used by another key layout ("
                                  + marker.toString(StandardCharsets.UTF_8)
                                  + " = "
                                  + existing
                                  + "); choose another keyPrefix");
                        }
                      }
                      return null;
                    }));
  }

  /**
   * Unless another user remains ({@code sharedWithOthers}), deletes the provisioning marker. The
   * ledger stays, and so do holder and waiter keys: each is bound to the lease of the service that
   * wrote it and goes with its release or its lease. Deleting them would let the next waiter in
   * while their holder still believes it holds (it learns otherwise only at its next renewal).
   * Tokens are etcd revisions, which never go back, and the ledger keeps the epochs, so nothing
   * fencing needs is lost.
   */
  @Override
  public CompletionStage<Boolean> deprovision(PolicyRecord owner, boolean sharedWithOthers) {
    if (sharedWithOthers) {
      return CompletableFuture.completedFuture(false);
    }
    return typed(
        () ->
            call(() -> client().getKVClient().delete(keys.marker())).<Boolean>thenApply(r -> true));
  }

  /** The ledger in {@code <prefix>/.ledger}; see {@link EtcdLedgerStore}. */
  @Override
  public Optional<BackendLedger> ledger() {
    return Optional.of(new BackendLedger(new EtcdLedgerStore(this, keys)));
  }

  /** A linearizable read for the latency, then the member's status for its version. */
  @Override
  public CompletionStage<BackendProbe> probe() {
    long start = System.nanoTime();
    CompletableFuture<BackendProbe> probe;
    try {
      probe =
          call(() -> client().getKVClient().get(keys.marker()))
              .thenCompose(
                  got -> {
                    Duration latency = Duration.ofNanos(System.nanoTime() - start);
                    long revision = got.getHeader().getRevision();
                    return call(() -> client().getMaintenanceClient().statusMember(statusTarget()))
                        .handle(
                            (status, error) ->
                                BackendProbe.up(
                                    BACKEND,
                                    latency,
                                    true,
                                    (error == null
                                            ? "etcd " + status.getVersion()
                                            : "etcd (version unknown)")
                                        + ", revision "
                                        + revision
                                        + "; tokens are create revisions, kept across restarts"));
                  });
    } catch (RuntimeException e) {
      probe = CompletableFuture.failedFuture(e);
    }
    return probe.exceptionally(error -> BackendProbe.down(BACKEND, Failures.unwrap(error)));
  }

  private String statusTarget() {
    URI uri = URI.create(config.endpoints().get(0));
    return uri.getHost() + ":" + (uri.getPort() == -1 ? 2379 : uri.getPort());
  }

  /** Revokes the service's lease (so its keys go at once), then closes the connection. */
  @Override
  protected void closeBackend() {
    shutDown = true;
    queueWatches.closeAll();
    EtcdSessionLease current;
    synchronized (this) {
      current = lease;
      lease = null;
    }
    // A grant still under way is revoked when it lands (see lease()), or expires by its TTL.
    if (current != null) {
      revokeOnClose(current);
    }
    orphans.clear();
    connection.close();
  }

  private void revokeOnClose(EtcdSessionLease closing) {
    closing.stop();
    try {
      call(() -> client().getLeaseClient().revoke(closing.id()))
          .get(config.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // etcd expires it by itself after its TTL
      LOG.debug("could not revoke etcd lease {} on close", Long.toHexString(closing.id()), e);
    }
  }

  // ---- for the acquisition and the handles of this package ----

  Client client() {
    return connection.client();
  }

  EtcdKeys keys() {
    return keys;
  }

  /**
   * The service's lease, granted now if there is none or the last one was retired or not confirmed
   * within the lease. Concurrent callers share one grant.
   */
  CompletableFuture<EtcdSessionLease> lease() {
    EtcdSessionLease stale = null;
    CompletableFuture<EtcdSessionLease> grant;
    if (isShutDown()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("the lock service is closed"));
    }
    EtcdSessionLease usable = lease;
    if (usable != null && usable.isUsable()) {
      return CompletableFuture.completedFuture(usable);
    }
    synchronized (this) {
      EtcdSessionLease current = lease;
      if (current != null && current.isUsable()) {
        return CompletableFuture.completedFuture(current);
      }
      if (granting != null) {
        return granting;
      }
      stale = current;
      lease = null;
      long sentAt = System.nanoTime();
      long leaseNanos = settings.trustedLease().toNanos();
      grant =
          call(() -> client().getLeaseClient().grant(ttlSeconds))
              .thenApply(g -> new EtcdSessionLease(this, g.getID(), sentAt, leaseNanos));
      granting = grant;
    }
    if (stale != null) {
      stale.retire(
          LockLoss.Reason.LEASE_EXPIRED,
          "the service's etcd lease was not renewed within the lease");
    }
    grant.whenComplete(
        (granted, error) -> {
          boolean closed;
          synchronized (this) {
            granting = null;
            closed = isShutDown();
            if (granted != null && !closed) {
              lease = granted;
            }
          }
          if (granted != null) {
            if (closed) {
              orphans.revoke(granted.id());
            } else {
              granted.startKeepingAlive();
            }
          }
        });
    return grant;
  }

  /** Called once when {@code retired} is retired: later acquires must not get it again. */
  synchronized void leaseRetired(EtcdSessionLease retired) {
    if (lease == retired) {
      lease = null;
    }
  }

  long renewIntervalNanos() {
    return settings.renewInterval().toNanos();
  }

  boolean isShutDown() {
    return shutDown || isClosed();
  }

  long leaseNanos() {
    return settings.leaseDuration().toNanos();
  }

  long tokenFor(long createRevision) {
    return token(createRevision);
  }

  EtcdLockHandle start(EtcdLockHandle handle) {
    return started(handle);
  }

  /**
   * Deletes {@code key} only while it still holds {@code owner}, so nobody else's key is touched.
   */
  CompletableFuture<TxnResponse> deleteIfOwned(ByteSequence key, ByteSequence owner) {
    return call(
        () ->
            client()
                .getKVClient()
                .txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(owner)))
                .Then(Op.delete(key, DeleteOption.DEFAULT))
                .commit());
  }

  /** Where leftovers go that etcd could not take at once. */
  EtcdOrphanSweeper orphans() {
    return orphans;
  }

  /** The service's watches of the locks it has waiters on. */
  EtcdQueueWatches queueWatches() {
    return queueWatches;
  }

  /** Runs one etcd call, turning a synchronous throw into a failed stage and bounding its time. */
  <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> request) {
    Client used = connection.client();
    return Calls.start(() -> EtcdCalls.bounded(request.get(), config.requestTimeout()))
        .whenComplete(
            (r, error) -> {
              if (error != null) {
                connection.failed(used, error);
              }
            });
  }

  static CompletionException asCompletion(Throwable error) {
    return error instanceof CompletionException c ? c : new CompletionException(error);
  }
}
