package dev.fenced.lock.policy;

import dev.fenced.lock.LockAdmin;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Epochs;
import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerEntry;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.LeaseKeeper;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's own check that the backend of one policy in force is still the incarnation its epoch
 * was set for; while it is not, no hold is granted there.
 *
 * <ul>
 *   <li>With an operator ({@link PolicySource#operatorManaged()}): the incarnation must equal the
 *       policy's {@code status.backendIncarnation}. When it differs, acquires are refused until the
 *       operator raises the epoch and the policy with the new epoch arrives (a new service, with a
 *       new guard).
 *   <li>Without one (policy files): the guard adopts the incarnation in the backend's ledger by the
 *       rules of {@link Epochs#forDirectory}; when that raises the epoch, acquires wait while
 *       {@link PolicyLocks} builds the service again at the new epoch.
 * </ul>
 *
 * <p>It checks once before the first hold, then every {@code interval}, and again at once after an
 * acquire or a check failed for want of the backend (a failover or a restart shows that way first);
 * acquires that come meanwhile wait for that check.
 */
final class IncarnationGuard {

  private static final Logger LOG = LoggerFactory.getLogger(IncarnationGuard.class);

  /** What the guard knew when its service was replaced, handed to the next guard of the policy. */
  record Memory(Epochs.Adopted adopted, long maxProgress) {}

  private final PolicyRef ref;
  private final LockPolicy policy;
  private final long policyEpoch;
  private final long epoch;
  private final LockAdmin service;
  private final BackendLedger ledger;
  private final boolean operatorManaged;
  private final LeaseKeeper timer;
  private final long intervalNanos;
  private final LongConsumer raise;
  private final AtomicReference<CompletableFuture<Void>> check = new AtomicReference<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile Epochs.Adopted adopted;
  private volatile long maxProgress;
  private volatile String gate;
  private volatile boolean suspect;
  private volatile boolean stopped;

  /**
   * @param policyEpoch the epoch the policy itself says (status, or the file's annotation)
   * @param epoch the epoch the guarded service was built with (above {@code policyEpoch} after a
   *     raise without an operator)
   * @param memory what the guard before this one (same policy, same backend) knew, or null
   * @param service the guarded service; its backend's ledger is read and written, and without an
   *     operator a backend found in another incarnation is provisioned again before its new
   *     incarnation is adopted (so the marker that is part of it exists and one incident raises the
   *     epoch once)
   * @param raise asks for the service to be built again at a higher epoch (no operator only)
   */
  IncarnationGuard(
      PolicyRef ref,
      LockPolicy policy,
      long policyEpoch,
      long epoch,
      LockAdmin service,
      boolean operatorManaged,
      Memory memory,
      LeaseKeeper timer,
      Duration interval,
      LongConsumer raise) {
    this.ref = ref;
    this.policy = policy;
    this.policyEpoch = policyEpoch;
    this.epoch = epoch;
    this.service = service;
    this.ledger = service.ledger().orElseThrow();
    this.operatorManaged = operatorManaged;
    this.timer = timer;
    this.intervalNanos = interval.toNanos();
    this.raise = raise;
    this.adopted = memory == null ? null : memory.adopted();
    this.maxProgress = memory == null ? -1 : memory.maxProgress();
    service.onIncarnationDoubt(this::doubt);
  }

  /**
   * The first check (again, when an earlier first check failed); the periodic ones follow from the
   * first call. Fails when the backend cannot be asked.
   */
  CompletableFuture<Void> start() {
    CompletableFuture<Void> first = checkNow();
    if (started.compareAndSet(false, true)) {
      first.whenComplete((v, e) -> schedule());
    }
    return first;
  }

  /** Null while holds may be granted; otherwise why not. */
  String gate() {
    return gate;
  }

  /**
   * Completes once the backend is known to be the expected incarnation as far as this guard can
   * tell now: at once, or when the check that an earlier failure asked for is done.
   */
  CompletableFuture<Void> checked() {
    if (!suspect) {
      return CompletableFuture.completedFuture(null);
    }
    return checkNow();
  }

  /** An acquire failed for want of the backend: check again before the next hold. */
  void suspect() {
    if (!stopped) {
      suspect = true;
    }
  }

  /** The service saw a sign of another incarnation: check now, and make acquires wait for it. */
  private void doubt() {
    if (!stopped) {
      suspect = true;
      checkNow();
    }
  }

  /** What the next guard of the same policy and backend should start from. */
  Memory memory() {
    return new Memory(adopted, maxProgress);
  }

  void stop() {
    stopped = true;
  }

  private void schedule() {
    if (stopped) {
      return;
    }
    timer.schedule(
        () -> {
          if (!stopped) {
            checkNow().whenComplete((v, e) -> schedule());
          }
        },
        intervalNanos);
  }

  /** Runs one check, or joins the one under way. */
  private CompletableFuture<Void> checkNow() {
    CompletableFuture<Void> running = check.get();
    if (running != null && !running.isDone()) {
      return running;
    }
    CompletableFuture<Void> next = new CompletableFuture<>();
    if (!check.compareAndSet(running, next)) {
      return check.get();
    }
    boolean wasSuspect = suspect;
    ledger
        .incarnation()
        .thenCompose(now -> operatorManaged ? compareWithStatus(now) : provisionIfChanged(now))
        .whenComplete(
            (v, error) -> {
              if (error != null) {
                // The backend could not be asked (down, failing over, cut off): whatever answers
                // next may be another incarnation, so the next acquire waits for a check.
                suspect = !stopped;
                LOG.debug("{}: incarnation check failed", ref, Failures.unwrap(error));
                next.completeExceptionally(Failures.unwrap(error));
              } else {
                if (wasSuspect) {
                  suspect = false;
                }
                next.complete(null);
              }
            });
    return next;
  }

  private CompletableFuture<Void> compareWithStatus(Incarnation now) {
    String expected =
        policy.getStatus() == null ? null : policy.getStatus().getBackendIncarnation();
    String reason = null;
    if (expected != null && !expected.equals(now.id())) {
      reason =
          "the backend is no longer the incarnation epoch "
              + epoch
              + " was set for ("
              + expected
              + "); it is "
              + now.detail()
              + ". No hold is granted until the operator raises the epoch";
    } else if (maxProgress >= 0 && now.progress() >= 0 && now.progress() < maxProgress) {
      reason =
          "the backend's progress went back from "
              + maxProgress
              + " to "
              + now.progress()
              + " (restored from an older copy?). No hold is granted until the operator raises the"
              + " epoch";
    }
    if (reason == null) {
      maxProgress = Math.max(maxProgress, now.progress());
      service.confirmIncarnation(now);
    }
    setGate(reason);
    return CompletableFuture.completedFuture(null);
  }

  /** Without an operator: a changed backend is provisioned again before its incarnation is read. */
  private CompletableFuture<Void> provisionIfChanged(Incarnation now) {
    Epochs.Adopted previous = adopted;
    if (previous == null || !previous.incarnation().replacedBy(now)) {
      return adopt(now);
    }
    return service
        .provision()
        .thenCompose(v -> ledger.incarnation())
        .toCompletableFuture()
        .thenCompose(this::adopt);
  }

  private CompletableFuture<Void> adopt(Incarnation now) {
    Epochs.Adopted previous = adopted;
    AtomicReference<Epochs.Decision> decided = new AtomicReference<>();
    String key = ref.toString();
    long generation = generation();
    return ledger
        .update(
            l -> {
              Epochs.Decision d = Epochs.forDirectory(policyEpoch, l, key, now, previous);
              decided.set(d);
              LedgerEntry entry = l.entry(key).orElse(null);
              boolean same =
                  entry != null
                      && entry.recorded(now)
                      && entry.epoch() == d.epoch()
                      && entry.generation() == generation
                      && entry.backend().equals(service.backend())
                      && !entry.retired();
              // An unchanged entry is not rewritten: no write per check, whatever the progress.
              return same
                  ? l
                  : l.with(
                      key, LedgerEntry.adopted("", service.backend(), generation, d.epoch(), now));
            })
        .toCompletableFuture()
        .thenApply(
            l -> {
              Epochs.Decision d = decided.get();
              adopted = new Epochs.Adopted(now, d.epoch());
              if (d.epoch() != epoch) {
                setGate(
                    "the fencing epoch rises from "
                        + epoch
                        + " to "
                        + d.epoch()
                        + (d.reason() == null ? "" : ": " + d.reason()));
                raise.accept(d.epoch());
              } else {
                service.confirmIncarnation(now);
                setGate(null);
              }
              return null;
            });
  }

  private long generation() {
    Long g = policy.getMetadata() == null ? null : policy.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  private void setGate(String reason) {
    String before = gate;
    gate = reason;
    if (reason != null && !reason.equals(before)) {
      LOG.warn("LockPolicy {}: holding back new holds: {}", ref, reason);
    } else if (reason == null && before != null) {
      LOG.info("LockPolicy {}: backend incarnation confirmed, holds granted again", ref);
    }
  }
}
