package dev.fenced.lock.policy;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockAdmin;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockNames;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.LeaseKeeper;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks by name, each through the backend its LockPolicy names, following the policies of a {@link
 * PolicySource} as they change.
 *
 * <p>When a policy moves its lock names to another backend (another type, mode or address), the new
 * backend is used only once the old one's holds have drained: they are released, or their lease has
 * passed since the old service was closed. Until then acquires of those names wait (within their
 * {@code maxWait}), so two holders never meet across backends. Such a move must also raise the
 * policy's fencing epoch, so every token of the new backend is larger than every token of the old
 * one; a move that does not is refused, reported as a problem, and the old backend stays in force.
 * A change that keeps the backend (timings, lock names) takes effect at once.
 *
 * <p>Each backend's incarnation is watched ({@link IncarnationGuard}): no hold is granted on a
 * backend that is no longer the incarnation its epoch was set for (a failover, a restart that lost
 * data, a restore, a re-created base path or Lease) until the epoch has risen, by the operator
 * ({@code status.epoch}) or, for policy files, here through the backend's ledger.
 */
public final class PolicyLocks implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyLocks.class);
  private static final long DRAIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * A policy in force, with its service, as resolved at one moment. Acquiring through it ({@link
   * #acquire(String, Duration)}) uses exactly this policy and backend, so whatever a caller labels
   * with {@link #ref()} and the service's backend (metrics, circuit breakers) is what took the
   * lock, even if the policies change in between.
   */
  public final class ActivePolicy {
    private final Active active;

    private ActivePolicy(Active active) {
      this.active = active;
    }

    public PolicyRef ref() {
      return active.ref;
    }

    public LockPolicy policy() {
      return active.policy;
    }

    /**
     * The policy's service as code that takes locks sees it (its backend, its settings). Acquire
     * through {@link #acquire(String, Duration)}, which waits for provisioning, a move's drain and
     * the incarnation check.
     */
    public LockService service() {
      return active.service;
    }

    /** The administration of the policy's backend, for readiness probes. */
    public LockAdmin admin() {
      return active.service;
    }

    /**
     * Why no hold is granted on this policy's backend right now (the backend is another incarnation
     * than the epoch was set for, and the epoch has not risen yet), or null.
     */
    public String heldBack() {
      return active.guard == null ? null : active.guard.gate();
    }

    public LockSettings settings() {
      return active.service.settings();
    }

    /**
     * Acquires {@code name} through this policy's backend, waiting at most {@code maxWait} (null:
     * the policy's), once the backend is provisioned (and, after a move, the previous backend's
     * holds have drained). A policy replaced since it was resolved still serves until its service
     * is closed; after that the acquire fails with {@link
     * dev.fenced.lock.BackendUnavailableException} and the caller resolves again.
     *
     * @throws IllegalArgumentException for an invalid name or a wait the policy does not allow
     */
    public CompletionStage<LockHandle> acquire(String name, Duration maxWait) {
      return PolicyLocks.this.acquire(active, name, maxWait);
    }

    @Override
    public String toString() {
      return "ActivePolicy{" + active.ref + ", " + active.service.backend() + "}";
    }
  }

  private record Active(
      PolicyRef ref,
      LockPolicy policy,
      long epoch,
      String fingerprint,
      String backendKey,
      ManagedLockService service,
      IncarnationGuard guard,
      CompletableFuture<Void> drained,
      AtomicReference<CompletableFuture<Void>> ready,
      CompletableFuture<Void> superseded,
      AtomicInteger acquiring) {

    /**
     * Provisioned once the predecessor drained, and the backend's incarnation checked once; a
     * failed provisioning or check is tried again.
     */
    CompletableFuture<Void> whenReady() {
      CompletableFuture<Void> current = ready.get();
      if (current.isCompletedExceptionally()) {
        CompletableFuture<Void> retry = drained.thenCompose(v -> prepare());
        return ready.compareAndSet(current, retry) ? retry : ready.get();
      }
      return current;
    }

    CompletableFuture<Void> prepare() {
      CompletableFuture<Void> provisioned = service.provision().toCompletableFuture();
      return guard == null ? provisioned : provisioned.thenCompose(v -> guard.start());
    }
  }

  private record State(PolicyResolver resolver, Map<PolicyRef, Active> active) {}

  /** How often each backend's incarnation is checked, unless the constructor says otherwise. */
  public static final Duration DEFAULT_INCARNATION_CHECK = Duration.ofSeconds(1);

  private final PolicySource source;
  private final LockServiceFactory factory;
  private final Duration incarnationCheck;

  /**
   * Epochs raised here for policies without an operator, by policy and backend: the epoch a service
   * of that policy on that backend is built with at least.
   */
  private final Map<PolicyRef, Raised> raised = new HashMap<>();

  private record Raised(String backendKey, long epoch) {}

  private final LeaseKeeper timer = new LeaseKeeper();

  /**
   * Where a raise rebuilds services and where retired services close: both may block (closing a
   * service revokes its session and waits for the answer), and a raise is asked for on a backend
   * client's own thread, which the new service's client may share (jetcd's event loop). Blocking
   * there stalled the new service's provisioning until it timed out.
   */
  private final ExecutorService housekeeping =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "fenced-policy-housekeeping");
            t.setDaemon(true);
            return t;
          });

  private final PolicySource.Listener listener;
  private final List<PolicyProblem> switchProblems = new CopyOnWriteArrayList<>();
  private volatile State state = new State(new PolicyResolver(List.of()), Map.of());
  private volatile boolean closed;

  /**
   * Starts following {@code source}. The source stays the caller's; {@link #close()} closes every
   * service made here.
   */
  public PolicyLocks(PolicySource source, LockServiceFactory factory) {
    this(source, factory, DEFAULT_INCARNATION_CHECK);
  }

  /**
   * Starts following {@code source}, checking every backend's incarnation every {@code
   * incarnationCheck} (and before the first hold, and after an acquire failed for want of the
   * backend).
   */
  public PolicyLocks(PolicySource source, LockServiceFactory factory, Duration incarnationCheck) {
    if (incarnationCheck.isZero() || incarnationCheck.isNegative()) {
      throw new IllegalArgumentException(
          "incarnationCheck must be positive, was " + incarnationCheck);
    }
    this.source = source;
    this.factory = factory;
    this.incarnationCheck = incarnationCheck;
    this.listener = this::apply;
    source.addListener(listener);
    apply(source.policies());
  }

  /** Acquires {@code name} under its policy, waiting at most the policy's {@code maxWait}. */
  public CompletionStage<LockHandle> acquire(String name) {
    return acquire(name, null);
  }

  /**
   * Acquires {@code name} under its policy, waiting at most {@code maxWait} (null: the policy's).
   * Fails with {@link InvalidLockPolicyException} when no policy governs the name or policies tie
   * on it.
   *
   * @throws IllegalArgumentException for an invalid name or a wait the policy does not allow
   */
  public CompletionStage<LockHandle> acquire(String name, Duration maxWait) {
    LockNames.check(name);
    Active active;
    try {
      active = governing(name);
    } catch (InvalidLockPolicyException e) {
      return CompletableFuture.failedFuture(e);
    }
    return acquire(active, name, maxWait);
  }

  private CompletionStage<LockHandle> acquire(Active active, String name, Duration maxWait) {
    LockNames.check(name);
    long start = System.nanoTime();
    Duration wait = maxWait == null ? active.service.settings().maxWait() : maxWait;
    active.service.settings().checkAcquire(name, wait);
    return acquireOn(active, name, wait, start);
  }

  private CompletionStage<LockHandle> acquireOn(
      Active active, String name, Duration wait, long start) {
    CompletableFuture<Void> ready = active.whenReady();
    if (active.guard != null) {
      ready =
          ready.thenCompose(
              v ->
                  active
                      .guard
                      .checked()
                      .exceptionally(
                          e -> {
                            throw new BackendUnavailableException(
                                active.service.backend(), name, Failures.unwrap(e));
                          }));
    }
    if (ready.isDone() && !ready.isCompletedExceptionally() && open(active)) {
      // Nothing was waited for: what is left is the wait (a zero wait still tries once).
      Duration left = wait.minusNanos(System.nanoTime() - start);
      return watched(active, name, left.isNegative() ? Duration.ZERO : left, wait, start);
    }
    return ready.thenCompose(
        v -> {
          Duration left = wait.minusNanos(System.nanoTime() - start);
          if (left.isNegative()) {
            throw new LockTimeoutException(name, wait);
          }
          if (!open(active)) {
            return whenSuperseded(active, name, wait, start);
          }
          return watched(active, name, left, wait, start);
        });
  }

  private static boolean open(Active active) {
    return active.guard == null || active.guard.gate() == null;
  }

  /**
   * Whether holds of {@code active} came too late: its backend is held back, or the same backend
   * now serves the policy at a higher epoch. (A move to another backend is not: the new backend
   * waits for the old one's holds to drain.)
   */
  private boolean stale(Active active) {
    if (!open(active)) {
      return true;
    }
    Active now = state.active.get(active.ref);
    return now != null
        && now != active
        && now.backendKey.equals(active.backendKey)
        && now.epoch > active.epoch;
  }

  /**
   * The backend of {@code active} is held back (its incarnation changed): wait, within the
   * acquire's time, for the service that replaces it (the policy at a higher epoch), and acquire
   * there.
   */
  private CompletionStage<LockHandle> whenSuperseded(
      Active active, String name, Duration wait, long start) {
    String gate = active.guard.gate();
    long left = wait.toNanos() - (System.nanoTime() - start);
    return active
        .superseded
        .copy()
        .orTimeout(Math.max(0, left), TimeUnit.NANOSECONDS)
        .handle((v, e) -> e)
        .thenCompose(
            timedOut -> {
              if (timedOut != null) {
                throw new BackendUnavailableException(
                    active.service.backend(), name, new IllegalStateException(gate));
              }
              return acquireOn(governing(name), name, wait, start);
            });
  }

  /**
   * An acquire on {@code active}'s service: counted while under way, so the service is not closed
   * under it; one that failed for want of the backend makes the guard check before the next one. A
   * hold that arrives after the backend was found in another incarnation (the acquire was already
   * waiting when the check saw it) is given back unused, and the acquire goes on with the service
   * at the higher epoch: no caller gets a hold at the old epoch once the incident is known.
   */
  private CompletionStage<LockHandle> watched(
      Active active, String name, Duration left, Duration wait, long start) {
    active.acquiring.incrementAndGet();
    CompletionStage<LockHandle> acquire;
    try {
      acquire = active.service.acquire(name, left);
    } catch (RuntimeException e) {
      active.acquiring.decrementAndGet();
      throw e;
    }
    return acquire
        .whenComplete(
            (h, e) -> {
              active.acquiring.decrementAndGet();
              if (active.guard != null
                  && e != null
                  && Failures.unwrap(e) instanceof BackendUnavailableException) {
                active.guard.suspect();
              }
            })
        .thenCompose(
            hold -> {
              if (!stale(active)) {
                return CompletableFuture.completedFuture(hold);
              }
              LOG.info(
                  "LockPolicy {}: a hold of '{}' at epoch {} came after the backend changed"
                      + " incarnation; given back",
                  active.ref,
                  name,
                  active.epoch);
              return hold.release()
                  .handle((r, e) -> null)
                  .thenCompose(
                      v ->
                          active.superseded.isDone()
                              ? acquireOn(governing(name), name, wait, start)
                              : whenSuperseded(active, name, wait, start));
            });
  }

  /** The policy and service governing {@code name}, if any. */
  public Optional<ActivePolicy> resolve(String name) {
    try {
      return Optional.of(new ActivePolicy(governing(name)));
    } catch (InvalidLockPolicyException e) {
      return Optional.empty();
    }
  }

  /** Every policy in force, for health checks and metrics. */
  public List<ActivePolicy> active() {
    return state.active.values().stream().map(ActivePolicy::new).toList();
  }

  /** The source's problems and the backend moves refused here. */
  public List<PolicyProblem> problems() {
    List<PolicyProblem> all = new ArrayList<>(source.problems());
    all.addAll(switchProblems);
    return List.copyOf(all);
  }

  private Active governing(String name) {
    State current = state;
    Resolution resolution =
        current
            .resolver
            .resolve(name)
            .orElseThrow(
                () ->
                    new InvalidLockPolicyException(
                        name,
                        "no Ready LockPolicy governs lock name '"
                            + name
                            + "'"
                            + (source.problems().isEmpty()
                                ? ""
                                : " (policy problems: " + source.problems() + ")")));
    return current.active.get(resolution.ref());
  }

  private synchronized void apply(List<LockPolicy> policies) {
    if (closed) {
      return;
    }
    Map<PolicyRef, Active> previous = state.active;
    Map<PolicyRef, Active> next = new HashMap<>();
    List<PolicyProblem> problems = new ArrayList<>();
    for (LockPolicy policy : policies) {
      PolicyRef ref = PolicyRef.of(policy);
      Active old = previous.get(ref);
      Active replacement = replace(ref, policy, old, problems);
      if (replacement != null) {
        next.put(ref, replacement);
      }
    }
    List<Active> retired = new ArrayList<>();
    for (Active old : previous.values()) {
      if (next.get(old.ref) != old) {
        retired.add(old);
      }
    }
    raised.keySet().removeIf(ref -> !next.containsKey(ref));
    state =
        new State(new PolicyResolver(next.values().stream().map(Active::policy).toList()), next);
    switchProblems.clear();
    switchProblems.addAll(problems);
    for (Active old : retired) {
      if (old.guard != null) {
        old.guard.stop();
      }
      old.superseded.complete(null);
    }
    for (Active old : retired) {
      Active successor = next.get(old.ref);
      if (successor == null || successor.backendKey.equals(old.backendKey)) {
        // Removed, or the same backend, which itself keeps old and new holders apart: let the
        // old holds finish, then close. A move closes the old service when it has drained.
        // Acquires under way end within their maxWait; closing the service earlier would strand
        // them (its timer goes with it).
        Duration lease = old.service.settings().leaseDuration();
        Duration maxWait = old.service.settings().maxWait();
        retireWhenIdle(old, lease.compareTo(maxWait) > 0 ? lease : maxWait)
            .thenRunAsync(old.service::close, housekeeping);
      }
    }
  }

  /**
   * The entry that governs {@code ref} from now on: the old one kept, or a new service; null when
   * there was none and none can be made.
   */
  private Active replace(
      PolicyRef ref, LockPolicy policy, Active old, List<PolicyProblem> problems) {
    String backendKey = Serialization.asJson(policy.getSpec().getBackend());
    Raised raise = raised.get(ref);
    long epoch =
        raise != null && raise.backendKey.equals(backendKey)
            ? Math.max(epochOf(policy), raise.epoch)
            : epochOf(policy);
    String fingerprint =
        Serialization.asJson(policy.getSpec())
            + "|"
            + epoch
            + "|"
            + (policy.getStatus() == null ? null : policy.getStatus().getBackendIncarnation());
    if (old != null && old.fingerprint.equals(fingerprint)) {
      return old;
    }
    boolean moves = old != null && !old.backendKey.equals(backendKey);
    if (moves && epoch <= old.epoch) {
      problems.add(
          new PolicyProblem(
              ref.toString(),
              null,
              "status.epoch",
              "moving to another backend needs a fencing epoch above "
                  + old.epoch
                  + " (status.epoch, which the operator raises with every backend change; for a"
                  + " policy file the annotation "
                  + DirectoryPolicySource.EPOCH_ANNOTATION
                  + "), so the new backend's tokens stay above the old one's; the previous"
                  + " backend stays in force"));
      LOG.error("LockPolicy {}: backend move refused: the fencing epoch was not raised", ref);
      return old;
    }
    ManagedLockService service;
    try {
      service = factory.create(epoch == epochOf(policy) ? policy : withEpoch(policy, epoch));
    } catch (InvalidLockPolicyException e) {
      problems.add(new PolicyProblem(ref.toString(), null, "spec.backend", e.getMessage()));
      LOG.error("LockPolicy {}: {}", ref, e.getMessage());
      return old;
    }
    CompletableFuture<Void> drained = moves ? drain(old) : CompletableFuture.completedFuture(null);
    if (moves) {
      LOG.info(
          "LockPolicy {}: moving from {} to {} once the old holds drain",
          ref,
          old.service.backend(),
          service.backend());
    }
    IncarnationGuard guard =
        service
            .ledger()
            .map(
                ledger ->
                    new IncarnationGuard(
                        ref,
                        policy,
                        epochOf(policy),
                        epoch,
                        service,
                        source.operatorManaged(),
                        old != null && !moves && old.guard != null ? old.guard.memory() : null,
                        timer,
                        incarnationCheck,
                        higher -> raise(ref, backendKey, higher)))
            .orElse(null);
    Active active =
        new Active(
            ref,
            policy,
            epoch,
            fingerprint,
            backendKey,
            service,
            guard,
            drained,
            new AtomicReference<>(),
            new CompletableFuture<>(),
            new AtomicInteger());
    active.ready.set(drained.thenCompose(v -> active.prepare()));
    return active;
  }

  /**
   * A guard without an operator found that the epoch must rise: build the policy's service again at
   * {@code epoch} (same backend, so holds of the old service go on until released).
   */
  private void raise(PolicyRef ref, String backendKey, long epoch) {
    try {
      housekeeping.execute(() -> raiseNow(ref, backendKey, epoch));
    } catch (RejectedExecutionException closedMeanwhile) {
      // closed: nothing to rebuild
    }
  }

  private synchronized void raiseNow(PolicyRef ref, String backendKey, long epoch) {
    Raised before = raised.get(ref);
    if (closed
        || (before != null && before.backendKey.equals(backendKey) && before.epoch >= epoch)) {
      return;
    }
    raised.put(ref, new Raised(backendKey, epoch));
    LOG.warn("LockPolicy {}: fencing epoch raised to {} on the same backend", ref, epoch);
    apply(source.policies());
  }

  /** A copy of {@code policy} whose status carries {@code epoch}. */
  private static LockPolicy withEpoch(LockPolicy policy, long epoch) {
    LockPolicy copy = Serialization.clone(policy);
    if (copy.getStatus() == null) {
      copy.setStatus(new LockPolicyStatus());
    }
    copy.getStatus().setEpoch(epoch);
    return copy;
  }

  /**
   * Completes when the old service holds nothing: its holds are released (and its acquires under
   * way have ended), or, after a lease (or the longest acquire, if longer), the service is closed
   * and another lease has passed so the backend has expired what was abandoned.
   */
  private CompletableFuture<Void> drain(Active old) {
    Duration lease = old.service.settings().leaseDuration();
    Duration maxWait = old.service.settings().maxWait();
    return retireWhenIdle(old, lease.compareTo(maxWait) > 0 ? lease : maxWait)
        .thenComposeAsync(
            idle -> {
              old.service.close();
              if (idle) {
                return CompletableFuture.completedFuture(null);
              }
              CompletableFuture<Void> expired = new CompletableFuture<>();
              timer.schedule(() -> expired.complete(null), lease.toNanos());
              return expired;
            },
            housekeeping);
  }

  /**
   * Completes with true once {@code old} holds nothing and no acquire is under way on it, or with
   * false after {@code limit}.
   */
  private CompletableFuture<Boolean> retireWhenIdle(Active old, Duration limit) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + limit.toNanos();
    Runnable check =
        new Runnable() {
          @Override
          public void run() {
            if (old.service.liveHolds() == 0 && old.acquiring.get() == 0) {
              done.complete(true);
            } else if (System.nanoTime() - deadline >= 0) {
              done.complete(false);
            } else {
              timer.schedule(this, DRAIN_POLL_NANOS);
            }
          }
        };
    check.run();
    return done;
  }

  private static long epochOf(LockPolicy policy) {
    return LockPolicyValidator.toSettings(policy).epoch();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    source.removeListener(listener);
    for (Active a : state.active.values()) {
      a.service.close();
    }
    timer.close();
    housekeeping.shutdown();
  }
}
