package dev.fenced.lock.kubernetes;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.AcquireLoop;
import dev.fenced.lock.support.AcquireLoop.Attempt;
import dev.fenced.lock.support.Calls;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Owners;
import dev.fenced.lock.support.Waiters;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseList;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks as {@code coordination.k8s.io/v1} Lease objects, one per lock name, taken and kept by
 * compare-and-swap on {@code metadata.resourceVersion}.
 *
 * <ul>
 *   <li><b>Acquire</b>: read the Lease; create it when absent; when it is free (no {@code
 *       holderIdentity}) or expired, take it over with an update that carries the observed
 *       resourceVersion and increments {@code leaseTransitions}. A 409 means someone else won: the
 *       attempt reports busy and the wait goes on.
 *   <li><b>Expiry</b> is judged from when this client observed the record change, on the local
 *       monotonic clock, plus the record's {@code leaseDurationSeconds}, as client-go's leader
 *       election does (see {@link Observations}); the record's {@code renewTime} is informative
 *       only.
 *   <li><b>Fencing token</b>: the Lease's generation and {@code leaseTransitions} after the
 *       takeover ({@link LeaseGeneration}). Creating a Lease, its first takeover at an epoch and
 *       every 524,287th takeover take the next generation from the ledger Lease, so the token rises
 *       strictly per lock name even across a Lease deleted and created again by a service that
 *       never saw it.
 *   <li><b>Renew / release</b>: compare-and-swap updates of {@code renewTime} / {@code
 *       holderIdentity}; after a 409 the Lease is read again and the update retried only if it
 *       still names this hold's owner.
 *   <li><b>Waiting</b>: a watch on this service's Leases wakes waiters when a Lease is freed or
 *       deleted; jittered, bounded back-off and the expiry time cover missed events.
 * </ul>
 *
 * <p>The Fabric8 client is blocking, so every call runs on an executor this service owns. The
 * {@link KubernetesClient} belongs to the caller: {@link #close()} leaves it open.
 */
public final class KubernetesLeaseLockService extends AbstractLockService {

  public static final String BACKEND = "KubernetesLease";

  /** Annotation holding the original lock name, checked on every acquire. */
  public static final String LOCK_NAME_ANNOTATION = "locks.fenced.dev/lock-name";

  /**
   * Annotation holding the fencing epoch of the service that last created or took the Lease. A
   * service at a lower epoch does not take it: its token would sort below tokens already issued.
   */
  public static final String EPOCH_ANNOTATION = "locks.fenced.dev/epoch";

  /** Label marking a Lease as a fenced lock; the watch selects on it. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "fenced";

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesLeaseLockService.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  /** With the watch this only bounds how long a missed event can delay a waiter. */
  private static final Duration MAX_BACKOFF = Duration.ofMillis(250);

  private static final long REWATCH_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Conflicts in a row that renew or release retries while the Lease still names this hold. */
  private static final int MAX_OWN_CONFLICTS = 5;

  private final KubernetesClient client;
  private final String namespace;
  private final int leaseSeconds;
  private final ThreadPoolExecutor executor;
  private final Waiters waiters = new Waiters();
  private final Observations observations = new Observations();
  private final AtomicBoolean watchStarted = new AtomicBoolean();
  private final LeaseLedgerStore ledgerStore;
  private volatile Watch watch;

  /**
   * The last version seen of each lock Lease that had issued tokens ({@code leaseTransitions > 0}),
   * by Lease name: when such a Lease is gone, creating it again would start its tokens at 1.
   */
  private final Map<String, Lease> issued = new ConcurrentHashMap<>();

  /**
   * Lease names whose Lease this service saw issue tokens and then vanish: it creates none of them
   * again at its epoch. The deletion is in the ledger, so the epoch rises and a new service, at the
   * higher epoch, creates them.
   */
  private final Set<String> deletedAfterIssuing = ConcurrentHashMap.newKeySet();

  /**
   * @param client the caller's client; it stays open when this service closes
   * @param keeper the timer for renewals and back-off; null to give this service its own
   */
  public KubernetesLeaseLockService(
      KubernetesClient client,
      KubernetesLeaseLockConfig config,
      LockSettings settings,
      LeaseKeeper keeper) {
    super(settings, keeper);
    this.client = Objects.requireNonNull(client, "client must be set");
    this.namespace = Objects.requireNonNull(config, "config must be set").namespace();
    this.leaseSeconds = leaseSeconds(settings.leaseDuration());
    this.executor =
        new ThreadPoolExecutor(
            8,
            8,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "fenced-k8s-lease-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.executor.allowCoreThreadTimeOut(true);
    this.ledgerStore = new LeaseLedgerStore(this, client, namespace);
  }

  public KubernetesLeaseLockService(
      KubernetesClient client, KubernetesLeaseLockConfig config, LockSettings settings) {
    this(client, config, settings, null);
  }

  /**
   * The record's {@code leaseDurationSeconds}: whole seconds, rounded up, so the record never
   * promises less than the holder keeps; the field is a 32-bit integer.
   */
  private static int leaseSeconds(Duration lease) {
    long seconds = Math.max(1, (lease.toNanos() + 999_999_999L) / 1_000_000_000L);
    if (seconds > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "leaseDuration must be at most "
              + Integer.MAX_VALUE
              + " s for a Kubernetes Lease (leaseDurationSeconds is a 32-bit integer), was "
              + lease);
    }
    return (int) seconds;
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  /** The namespace that holds this service's Leases. */
  public String namespace() {
    return namespace;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    ensureWatching();
    String leaseName = LeaseNames.leaseName(name);
    return AcquireLoop.run(
        name, maxWait, keeper, waiters, MAX_BACKOFF, () -> call(() -> attempt(name, leaseName)));
  }

  /** One try, blocking, on the executor. */
  private Attempt<LockHandle> attempt(String name, String leaseName) {
    Lease current = leases().withName(leaseName).get();
    String owner = Owners.newOwnerId();
    if (current == null) {
      refuseRecreating(name, leaseName);
      return create(name, leaseName, owner);
    }
    checkBelongsTo(name, current);
    noteIssued(current);
    refuseNewerEpoch(name, current);
    LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
    long now = System.nanoTime();
    if (!isFree(spec)) {
      long observedAt = observations.observe(current, now);
      long left = observedAt + durationNanos(spec) - now;
      if (left > 0) {
        return Attempt.busy(left);
      }
    }
    int transitions = spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions();
    if (transitions == Integer.MAX_VALUE) {
      throw new IllegalStateException(
          "Lease " + namespace + "/" + leaseName + " has used up its leaseTransitions");
    }
    int next = transitions + 1;
    LeaseGeneration generation = LeaseGeneration.of(current);
    if (recordedEpoch(current) != settings.epoch() || !generation.counts(next)) {
      // Its generation was taken at another epoch (or it has none), or is full: go on in a new
      // generation, taken at this epoch (see LeaseGeneration).
      generation =
          new LeaseGeneration(nextGeneration(name, generation.nextAbove(transitions)), next);
    }
    ZonedDateTime wallNow = ZonedDateTime.now(ZoneOffset.UTC);
    Lease takeover =
        new LeaseBuilder(current)
            .editMetadata()
            .addToAnnotations(EPOCH_ANNOTATION, Long.toString(settings.epoch()))
            .addToAnnotations(generation.annotations())
            .endMetadata()
            .editOrNewSpec()
            .withHolderIdentity(owner)
            .withLeaseDurationSeconds(leaseSeconds)
            .withAcquireTime(wallNow)
            .withRenewTime(wallNow)
            .withLeaseTransitions(next)
            .endSpec()
            .build();
    long sentAt = System.nanoTime();
    Lease written;
    try {
      written = leases().resource(takeover).update();
    } catch (KubernetesClientException e) {
      if (isConflict(e) || isNotFound(e)) {
        // Someone else changed the Lease first (a renewal, another takeover): wait on.
        return Attempt.busy(0);
      }
      throw e;
    }
    return Attempt.acquired(
        held(name, leaseName, owner, generation.counter(next), written, sentAt));
  }

  /**
   * The next Lease generation, at least {@code atLeast}, from the ledger; see {@link
   * LeaseGeneration}. A ledger missing while someone raises this service's epoch refuses until the
   * epoch rises.
   */
  private long nextGeneration(String name, long atLeast) {
    try {
      return ledgerStore.nextGeneration(atLeast, settings.epoch(), !incarnationWatched());
    } catch (LeaseLedgerStore.GenerationRefused e) {
      throw refusedUntilTheEpochRises(name, e.getMessage());
    }
  }

  /**
   * A Lease this service saw issue tokens is gone (deleted by hand, by a namespace clean-up): its
   * transitions, and so the name's tokens, would start at 1 again. Records the deletion in the
   * ledger (the watch may not have yet), has the incarnation checked, and fails the attempt: the
   * epoch rises before the Lease is created again, so no token repeats even when an acquire outruns
   * the watch event. A service nobody raises the epoch for (used without {@code PolicyLocks})
   * creates it again, and its tokens restart: storage that checks the holder refuses the repeated
   * ones.
   */
  private void refuseRecreating(String name, String leaseName) {
    if (!incarnationWatched()) {
      return;
    }
    Lease gone = issued.get(leaseName);
    if (gone == null && !deletedAfterIssuing.contains(leaseName)) {
      return;
    }
    if (gone != null && !deletedAfterIssuing.contains(leaseName)) {
      ledgerStore.recordDeletion(gone);
      deletedAfterIssuing.add(leaseName);
    }
    throw refusedUntilTheEpochRises(
        name,
        "Lease "
            + namespace
            + "/"
            + leaseName
            + " issued tokens and was deleted; it is not created again at fencing epoch "
            + settings.epoch()
            + ", whose tokens it would repeat: the epoch rises first");
  }

  /**
   * A Lease last taken at a higher epoch than this service's is not taken: its transitions go on
   * from there, but this service's token would carry the lower epoch and sort below the tokens
   * issued at the higher one. That happens to a service the epoch rose past (a backend incident, a
   * re-created policy) for as long as it lives on: under {@code PolicyLocks} only until it is
   * replaced, and this has its epoch checked at once. A Lease without the annotation (written
   * before it existed) is taken as before.
   */
  private void refuseNewerEpoch(String name, Lease current) {
    long leaseEpoch = recordedEpoch(current);
    if (leaseEpoch <= settings.epoch()) {
      return;
    }
    throw refusedUntilTheEpochRises(
        name,
        "Lease "
            + namespace
            + "/"
            + current.getMetadata().getName()
            + " was last taken at fencing epoch "
            + leaseEpoch
            + ", above this service's "
            + settings.epoch()
            + ": a hold here would carry a token below those already issued");
  }

  /** The epoch that last created or took {@code lease}; {@code MIN_VALUE} when it records none. */
  private static long recordedEpoch(Lease lease) {
    Map<String, String> annotations = lease.getMetadata().getAnnotations();
    String recorded = annotations == null ? null : annotations.get(EPOCH_ANNOTATION);
    try {
      return recorded == null ? Long.MIN_VALUE : Long.parseLong(recorded.strip());
    } catch (NumberFormatException e) {
      return Long.MIN_VALUE; // not ours to judge; the fence still is
    }
  }

  /**
   * Has this service's epoch checked (when anyone acts on it) and returns the failure of the
   * attempt, saying {@code why}.
   */
  private BackendUnavailableException refusedUntilTheEpochRises(String name, String why) {
    if (incarnationWatched()) {
      incarnationDoubt();
    }
    return new BackendUnavailableException(BACKEND, name, new IllegalStateException(why));
  }

  private void noteIssued(Lease lease) {
    Integer transitions = lease.getSpec() == null ? null : lease.getSpec().getLeaseTransitions();
    if (transitions != null && transitions > 0 && lease.getMetadata() != null) {
      issued.put(lease.getMetadata().getName(), lease);
    }
  }

  private Attempt<LockHandle> create(String name, String leaseName, String owner) {
    LeaseGeneration generation = new LeaseGeneration(nextGeneration(name, 1), 1);
    Map<String, String> annotations = new HashMap<>(generation.annotations());
    annotations.put(LOCK_NAME_ANNOTATION, name);
    annotations.put(EPOCH_ANNOTATION, Long.toString(settings.epoch()));
    ZonedDateTime wallNow = ZonedDateTime.now(ZoneOffset.UTC);
    Lease fresh =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(leaseName)
            .withNamespace(namespace)
            .withLabels(Map.of(MANAGED_BY_LABEL, MANAGED_BY))
            .withAnnotations(annotations)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(owner)
            .withLeaseDurationSeconds(leaseSeconds)
            .withAcquireTime(wallNow)
            .withRenewTime(wallNow)
            .withLeaseTransitions(1)
            .endSpec()
            .build();
    long sentAt = System.nanoTime();
    Lease written;
    try {
      written = leases().resource(fresh).create();
    } catch (KubernetesClientException e) {
      if (isConflict(e)) {
        // Another client created it first: read it on the next try.
        return Attempt.busy(0);
      }
      throw e;
    }
    return Attempt.acquired(held(name, leaseName, owner, generation.counter(1), written, sentAt));
  }

  private LockHandle held(
      String name, String leaseName, String owner, long counter, Lease written, long sentAt) {
    observations.observe(written, System.nanoTime());
    noteIssued(written);
    return started(new Handle(name, leaseName, token(counter), owner, written, sentAt));
  }

  /** A Lease of the same name that records another lock name (or none) is not ours to take. */
  private void checkBelongsTo(String name, Lease lease) {
    Map<String, String> annotations = lease.getMetadata().getAnnotations();
    String recorded = annotations == null ? null : annotations.get(LOCK_NAME_ANNOTATION);
    if (!name.equals(recorded)) {
      throw new InvalidLockPolicyException(
          name,
          "Lease "
              + namespace
              + "/"
              + lease.getMetadata().getName()
              + (recorded == null
                  ? " exists but was not created by fenced (no annotation "
                      + LOCK_NAME_ANNOTATION
                      + ")"
                  : " belongs to the lock '" + recorded + "'")
              + "; remove it or use another namespace");
    }
  }

  private static boolean isFree(LeaseSpec spec) {
    return spec.getHolderIdentity() == null || spec.getHolderIdentity().isEmpty();
  }

  private long durationNanos(LeaseSpec spec) {
    Integer seconds = spec.getLeaseDurationSeconds();
    // A record without a usable duration is judged by this service's own lease.
    int s = seconds == null || seconds <= 0 ? leaseSeconds : seconds;
    return TimeUnit.SECONDS.toNanos(s);
  }

  /**
   * Lock Leases appear on first acquire; provisioning checks the namespace can be read, creates the
   * ledger's Lease ({@link LeaseLedgerStore}) unless it exists, and starts the watch that records a
   * deleted lock Lease in it.
   */
  @Override
  public CompletionStage<Void> provision() {
    ensureWatching();
    // Nothing to create but the ledger: Leases appear on first acquire. Check the namespace can be
    // read.
    return typed(
        () ->
            call(
                () -> {
                  listOne();
                  ledgerStore.ensureExists();
                  return null;
                }));
  }

  /** The ledger in the Lease {@code fenced-ledger}; see {@link LeaseLedgerStore}. */
  @Override
  public Optional<BackendLedger> ledger() {
    return Optional.of(new BackendLedger(ledgerStore));
  }

  @Override
  public CompletionStage<BackendProbe> probe() {
    return call(() -> {
          long start = System.nanoTime();
          listOne();
          Duration latency = Duration.ofNanos(System.nanoTime() - start);
          return BackendProbe.up(
              BACKEND,
              latency,
              true,
              "Leases in namespace '"
                  + namespace
                  + "' readable at "
                  + client.getMasterUrl()
                  + "; tokens survive while the Lease objects are kept");
        })
        .exceptionally(error -> BackendProbe.down(BACKEND, Failures.unwrap(error)));
  }

  private LeaseList listOne() {
    return leases().list(new ListOptionsBuilder().withLimit(1L).build());
  }

  @Override
  protected void closeBackend() {
    Watch w = watch;
    watch = null;
    if (w != null) {
      try {
        w.close();
      } catch (RuntimeException e) {
        LOG.debug("closing the Lease watch failed", e);
      }
    }
    executor.shutdownNow();
    waiters.wakeAll();
  }

  private NonNamespaceOperation<Lease, LeaseList, Resource<Lease>> leases() {
    return client.leases().inNamespace(namespace);
  }

  /** Runs a blocking client call on this service's executor. */
  <T> CompletableFuture<T> call(Callable<T> work) {
    return Calls.blocking(executor, work);
  }

  private static boolean isConflict(KubernetesClientException e) {
    return e.getCode() == HttpURLConnection.HTTP_CONFLICT;
  }

  private static boolean isNotFound(KubernetesClientException e) {
    return e.getCode() == HttpURLConnection.HTTP_NOT_FOUND;
  }

  // --- the watch that wakes waiters ---

  private void ensureWatching() {
    if (watchStarted.compareAndSet(false, true)) {
      startWatch();
    }
  }

  private void startWatch() {
    if (isClosed()) {
      return;
    }
    call(() -> leases().withLabel(MANAGED_BY_LABEL, MANAGED_BY).watch(new LeaseWatcher()))
        .whenComplete(
            (started, error) -> {
              if (error != null) {
                LOG.debug("cannot watch Leases in '{}'; retrying", namespace, error);
                keeper.schedule(this::startWatch, REWATCH_NANOS);
              } else if (isClosed()) {
                started.close();
              } else {
                watch = started;
                // Anything freed before the watch began is found by the waiters' next try.
                waiters.wakeAll();
              }
            });
  }

  private final class LeaseWatcher implements Watcher<Lease> {

    @Override
    public void eventReceived(Action action, Lease lease) {
      if (lease == null || lease.getMetadata() == null) {
        return;
      }
      Map<String, String> annotations = lease.getMetadata().getAnnotations();
      String lockName = annotations == null ? null : annotations.get(LOCK_NAME_ANNOTATION);
      String leaseName = lease.getMetadata().getName();
      boolean gone = action == Action.DELETED;
      if (gone
          && lockName != null
          && lease.getSpec() != null
          && lease.getSpec().getLeaseTransitions() != null
          && lease.getSpec().getLeaseTransitions() > 0) {
        // Its transitions, and so the name's tokens, start again at 1 when it is created anew:
        // record it in the ledger (a new incarnation), then have the epoch checked at once.
        deletedAfterIssuing.add(leaseName);
        ledgerStore.noteDeleted(lease).thenRun(KubernetesLeaseLockService.this::incarnationDoubt);
      } else if (!gone) {
        noteIssued(lease);
      }
      if (gone || lease.getSpec() == null || isFree(lease.getSpec())) {
        observations.forget(leaseName);
        if (lockName != null) {
          waiters.wake(lockName);
        }
      } else if (action == Action.ADDED || action == Action.MODIFIED) {
        observations.observe(lease, System.nanoTime());
      }
    }

    @Override
    public void onClose(WatcherException cause) {
      // The client gave up reconnecting: start over, and let waiters look for themselves.
      LOG.debug("the Lease watch in '{}' closed; restarting", namespace, cause);
      watch = null;
      waiters.wakeAll();
      keeper.schedule(KubernetesLeaseLockService.this::startWatch, REWATCH_NANOS);
    }
  }

  // --- one hold ---

  private final class Handle extends AbstractLockHandle {

    private final String leaseName;

    /** The Lease as this hold last wrote or read it; its resourceVersion is the CAS guard. */
    private volatile Lease current;

    Handle(String name, String leaseName, long token, String owner, Lease written, long sentAt) {
      super(BACKEND, name, token, owner, settings, keeper, sentAt);
      this.leaseName = leaseName;
      this.current = written;
    }

    @Override
    protected CompletionStage<Boolean> renewOnBackend() {
      return call(
          () ->
              compareAndSet(
                  base ->
                      new LeaseBuilder(base)
                          .editOrNewSpec()
                          .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC))
                          .withLeaseDurationSeconds(leaseSeconds)
                          .endSpec()
                          .build()));
    }

    @Override
    protected CompletionStage<Boolean> releaseOnBackend() {
      return call(
          () -> {
            boolean released =
                compareAndSet(
                    base ->
                        new LeaseBuilder(base)
                            .editOrNewSpec()
                            .withHolderIdentity(null)
                            .endSpec()
                            .build());
            if (released) {
              observations.forget(leaseName);
              waiters.wake(name());
            }
            return released;
          });
    }

    /**
     * Writes {@code change} of the Lease guarded by its resourceVersion. True when written; false
     * when the Lease no longer names this hold's owner (or is gone); throws when the backend fails
     * or keeps conflicting.
     */
    private boolean compareAndSet(java.util.function.UnaryOperator<Lease> change) {
      for (int conflicts = 0; ; conflicts++) {
        Lease base = current;
        try {
          current = leases().resource(change.apply(base)).update();
          return true;
        } catch (KubernetesClientException e) {
          if (isNotFound(e)) {
            return false;
          }
          if (!isConflict(e) || conflicts >= MAX_OWN_CONFLICTS) {
            throw e;
          }
        }
        // Someone changed the Lease: if it still names us (an annotation edit, say), go again.
        Lease fresh = leases().withName(leaseName).get();
        if (fresh == null
            || fresh.getSpec() == null
            || !ownerId().equals(fresh.getSpec().getHolderIdentity())) {
          return false;
        }
        current = fresh;
      }
    }
  }
}
