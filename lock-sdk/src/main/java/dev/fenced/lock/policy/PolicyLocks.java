package dev.fenced.lock.policy;

import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockNames;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.support.AbstractLockService;
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
import java.util.concurrent.TimeUnit;
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
  public static final class ActivePolicy {
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

    public AbstractLockService service() {
      return active.service;
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
      return PolicyLocks.acquire(active, name, maxWait);
    }

    @Override
    public String toString() {
      return "ActivePolicy{" + active.ref + ", " + active.service.backend() + "}";
    }
  }

  private record Active(
      PolicyRef ref,
      LockPolicy policy,
      String fingerprint,
      String backendKey,
      AbstractLockService service,
      CompletableFuture<Void> drained,
      AtomicReference<CompletableFuture<Void>> ready) {

    /** Provisioned once the predecessor drained; a failed provisioning is tried again. */
    CompletableFuture<Void> whenReady() {
      CompletableFuture<Void> current = ready.get();
      if (current.isCompletedExceptionally()) {
        CompletableFuture<Void> retry =
            drained.thenCompose(v -> service.provision()).toCompletableFuture();
        return ready.compareAndSet(current, retry) ? retry : ready.get();
      }
      return current;
    }
  }

  private record State(PolicyResolver resolver, Map<PolicyRef, Active> active) {}

  private final PolicySource source;
  private final LockServiceFactory factory;
  private final LeaseKeeper timer = new LeaseKeeper();
  private final PolicySource.Listener listener;
  private final List<PolicyProblem> switchProblems = new CopyOnWriteArrayList<>();
  private volatile State state = new State(new PolicyResolver(List.of()), Map.of());
  private volatile boolean closed;

  /**
   * Starts following {@code source}. The source stays the caller's; {@link #close()} closes every
   * service made here.
   */
  public PolicyLocks(PolicySource source, LockServiceFactory factory) {
    this.source = source;
    this.factory = factory;
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

  private static CompletionStage<LockHandle> acquire(Active active, String name, Duration maxWait) {
    LockNames.check(name);
    long start = System.nanoTime();
    Duration wait = maxWait == null ? active.service.settings().maxWait() : maxWait;
    active.service.settings().checkAcquire(name, wait);
    CompletableFuture<Void> ready = active.whenReady();
    if (ready.isDone() && !ready.isCompletedExceptionally()) {
      return active.service.acquire(name, wait);
    }
    return ready.thenCompose(
        v -> {
          Duration left = wait.minusNanos(System.nanoTime() - start);
          if (left.isNegative()) {
            throw new LockTimeoutException(name, wait);
          }
          return active.service.acquire(name, left);
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
    state =
        new State(new PolicyResolver(next.values().stream().map(Active::policy).toList()), next);
    switchProblems.clear();
    switchProblems.addAll(problems);
    for (Active old : retired) {
      Active successor = next.get(old.ref);
      if (successor == null || successor.backendKey.equals(old.backendKey)) {
        // Removed, or the same backend, which itself keeps old and new holders apart: let the
        // old holds finish, then close. A move closes the old service when it has drained.
        retireWhenIdle(old, old.service.settings().leaseDuration()).thenRun(old.service::close);
      }
    }
  }

  /**
   * The entry that governs {@code ref} from now on: the old one kept, or a new service; null when
   * there was none and none can be made.
   */
  private Active replace(
      PolicyRef ref, LockPolicy policy, Active old, List<PolicyProblem> problems) {
    String fingerprint = Serialization.asJson(policy.getSpec()) + "|" + epochOf(policy);
    if (old != null && old.fingerprint.equals(fingerprint)) {
      return old;
    }
    String backendKey = Serialization.asJson(policy.getSpec().getBackend());
    boolean moves = old != null && !old.backendKey.equals(backendKey);
    if (moves && epochOf(policy) <= epochOf(old.policy)) {
      problems.add(
          new PolicyProblem(
              ref.toString(),
              null,
              "status.epoch",
              "moving to another backend needs a fencing epoch above "
                  + epochOf(old.policy)
                  + " (status.epoch, which the operator raises with every backend change; for a"
                  + " policy file the annotation "
                  + DirectoryPolicySource.EPOCH_ANNOTATION
                  + "), so the new backend's tokens stay above the old one's; the previous"
                  + " backend stays in force"));
      LOG.error("LockPolicy {}: backend move refused: the fencing epoch was not raised", ref);
      return old;
    }
    AbstractLockService service;
    try {
      service = factory.create(policy);
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
    CompletableFuture<Void> ready =
        drained.thenCompose(v -> service.provision()).toCompletableFuture();
    return new Active(
        ref, policy, fingerprint, backendKey, service, drained, new AtomicReference<>(ready));
  }

  /**
   * Completes when the old service holds nothing: its holds are released, or, after a lease, the
   * service is closed and another lease has passed so the backend has expired what was abandoned.
   */
  private CompletableFuture<Void> drain(Active old) {
    Duration lease = old.service.settings().leaseDuration();
    return retireWhenIdle(old, lease)
        .thenCompose(
            idle -> {
              old.service.close();
              if (idle) {
                return CompletableFuture.completedFuture(null);
              }
              CompletableFuture<Void> expired = new CompletableFuture<>();
              timer.schedule(() -> expired.complete(null), lease.toNanos());
              return expired;
            });
  }

  /** Completes with true once {@code old} holds nothing, or with false after {@code limit}. */
  private CompletableFuture<Boolean> retireWhenIdle(Active old, Duration limit) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + limit.toNanos();
    Runnable check =
        new Runnable() {
          @Override
          public void run() {
            if (old.service.liveHolds() == 0) {
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
  }
}
