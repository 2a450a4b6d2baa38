package dev.fenced.tally;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.support.Failures;
import dev.fenced.tally.TallyMetrics.Change;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Owns a fair share of the polls through the locks {@code tally:{poll}} and folds each owned poll's
 * ballots into its tally, every {@link TallySettings#foldInterval()}.
 *
 * <p>Every {@link TallySettings#heartbeatInterval()} the worker beats in the membership table,
 * learns the live workers and the polls, gives up the polls above its fair share ({@code ceil(polls
 * / live workers)}), and tries, without waiting, to lock unowned polls up to it. A lock held by a
 * crashed worker lapses after its lease; the next try of another worker then wins it.
 *
 * <p>A poll stops being folded at once when its hold reports loss ({@link LockHandle#lost()}) or a
 * fold is refused by the fence; a fold already running is rolled back before it commits. The fence
 * in storage is what makes that safe when a worker learns of its loss late.
 *
 * <p>Not tied to Quarkus: the service wires it, and tests run several in one JVM.
 */
public final class TallyWorker {

  /** Lock names are this prefix and the poll id. */
  public static final String LOCK_PREFIX = "tally:";

  private static final Logger LOG = Logger.getLogger(TallyWorker.class);

  /**
   * An owned poll, for status pages and tests.
   *
   * @param token the fencing token of this worker's hold
   * @param pendingBallots visible ballots not yet folded, as of the last fold
   * @param folds folds that committed ballots
   * @param runs fold transactions run, whatever their outcome
   */
  public record OwnedPoll(String poll, long token, long pendingBallots, long folds, long runs) {}

  private final Vertx vertx;
  private final PolicyLocks locks;
  private final TallySettings settings;
  private final Folder folder;
  private final Membership membership;
  private final TallyMetrics metrics;
  private final ConcurrentHashMap<String, Owned> owned = new ConcurrentHashMap<>();
  private final AtomicBoolean rebalancing = new AtomicBoolean();
  private volatile boolean running;
  private volatile boolean acquiring = true;
  private volatile Membership.View view = new Membership.View(1, List.of());
  private volatile long lastTickNanos = System.nanoTime();
  private volatile String lastProblem;
  private long foldTimer = -1;
  private long beatTimer = -1;

  public TallyWorker(
      Vertx vertx, Pool pool, PolicyLocks locks, TallySettings settings, MeterRegistry registry) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.locks = Objects.requireNonNull(locks, "locks");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.folder = new Folder(pool);
    this.membership = new Membership(pool, settings.workerId(), settings.memberExpiry());
    this.metrics = new TallyMetrics(registry, owned::size);
  }

  /** Starts beating, rebalancing and folding. */
  public synchronized void start() {
    if (running) {
      return;
    }
    running = true;
    lastTickNanos = System.nanoTime();
    foldTimer = vertx.setPeriodic(settings.foldInterval().toMillis(), id -> foldTick());
    beatTimer = vertx.setPeriodic(settings.heartbeatInterval().toMillis(), id -> beatTick());
    beatTick();
    LOG.infof("tally worker %s started", settings.workerId());
  }

  /**
   * Stops: no new folds, the running ones finish or roll back, every hold is released so other
   * workers can take the polls at once, and this worker leaves the membership table.
   */
  public CompletionStage<Void> stop() {
    synchronized (this) {
      if (!running) {
        return CompletableFuture.completedFuture(null);
      }
      cancelTimers();
    }
    List<CompletableFuture<Void>> releases = new ArrayList<>();
    for (Owned o : List.copyOf(owned.values())) {
      releases.add(drop(o, Change.RELEASED).toCompletableFuture());
    }
    return CompletableFuture.allOf(releases.toArray(new CompletableFuture[0]))
        .handle((v, e) -> null)
        .thenCompose(v -> membership.leave())
        .whenComplete((v, e) -> LOG.infof("tally worker %s stopped", settings.workerId()));
  }

  /**
   * Stops every timer and forgets the holds without releasing them or leaving the membership table,
   * as a crash would; the holds lapse after their lease once their lock service is closed. For
   * tests of take-over.
   */
  synchronized void halt() {
    cancelTimers();
    owned.values().forEach(o -> o.dropped = true);
    owned.clear();
  }

  /** While false the worker folds what it owns but takes no new polls. */
  public void setAcquiring(boolean acquiring) {
    this.acquiring = acquiring;
  }

  public String workerId() {
    return settings.workerId();
  }

  public List<OwnedPoll> owned() {
    return owned.values().stream()
        .map(
            o ->
                new OwnedPoll(
                    o.poll, o.handle.fencingToken(), o.pending, o.folds.get(), o.runs.get()))
        .sorted(Comparator.comparing(OwnedPoll::poll))
        .toList();
  }

  /** Live workers at the last heartbeat, this one included. */
  public long liveWorkers() {
    return view.liveWorkers();
  }

  /** The most polls this worker tries to own, as of the last heartbeat. */
  public int fairShare() {
    return view.fairShare();
  }

  public TallyMetrics metrics() {
    return metrics;
  }

  /** Whether the fold timer ran within {@code within}; false once stopped. */
  public boolean ticking(Duration within) {
    return running && System.nanoTime() - lastTickNanos <= within.toNanos();
  }

  private void cancelTimers() {
    running = false;
    if (foldTimer >= 0) {
      vertx.cancelTimer(foldTimer);
    }
    if (beatTimer >= 0) {
      vertx.cancelTimer(beatTimer);
    }
  }

  // ---- folding

  private void foldTick() {
    lastTickNanos = System.nanoTime();
    if (!running) {
      return;
    }
    for (Owned o : owned.values()) {
      foldOnce(o);
    }
  }

  private void foldOnce(Owned o) {
    if (o.dropped || !o.handle.isHeld() || !o.busy.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    o.idle = done;
    CompletionStage<Folder.Result> fold;
    try {
      fold = folder.fold(o.poll, Fence.of(o.handle), () -> !o.dropped && o.handle.isHeld());
    } catch (RuntimeException e) {
      fold = CompletableFuture.failedFuture(e);
    }
    fold.whenComplete(
        (result, failure) -> {
          try {
            if (failure != null) {
              problem("folding poll '" + o.poll + "' failed", failure);
            } else {
              onFolded(o, result);
            }
          } finally {
            o.runs.incrementAndGet();
            o.busy.set(false);
            done.complete(null);
          }
        });
  }

  private void onFolded(Owned o, Folder.Result result) {
    switch (result.outcome()) {
      case FOLDED -> {
        o.pending = result.pending();
        o.folds.incrementAndGet();
        metrics.folded(result.folded());
      }
      case NOTHING_NEW -> o.pending = result.pending();
      case REJECTED -> {
        metrics.rejected();
        LOG.warnf(
            "fold of poll '%s' with token %d was refused by the fence: a newer owner wrote or"
                + " another fold came first; giving the poll up",
            o.poll, o.handle.fencingToken());
        drop(o, Change.REJECTED);
      }
      case ABANDONED -> {
        // dropped while folding; the transaction was rolled back
      }
    }
  }

  // ---- ownership

  private void beatTick() {
    if (!running || !rebalancing.compareAndSet(false, true)) {
      return;
    }
    CompletionStage<Void> pass;
    try {
      pass =
          membership
              .beat()
              .thenCompose(
                  v -> {
                    view = v;
                    metrics.liveWorkers(v.liveWorkers());
                    return rebalance(v);
                  });
    } catch (RuntimeException e) {
      pass = CompletableFuture.failedFuture(e);
    }
    pass.whenComplete(
        (v, failure) -> {
          rebalancing.set(false);
          if (failure != null) {
            problem("heartbeat or rebalance failed", failure);
          }
        });
  }

  private CompletionStage<Void> rebalance(Membership.View v) {
    Set<String> polls = new HashSet<>(v.polls());
    for (Owned o : owned.values()) {
      if (!polls.contains(o.poll)) {
        drop(o, Change.RELEASED);
      }
    }
    int share = v.fairShare();
    int extra = owned.size() - share;
    if (extra > 0) {
      // Highest ids first: a stable choice, so workers do not trade the same polls back and forth.
      owned.values().stream()
          .sorted(Comparator.comparing((Owned o) -> o.poll).reversed())
          .limit(extra)
          .toList()
          .forEach(o -> drop(o, Change.RELEASED));
    }
    if (!acquiring || owned.size() >= share) {
      return CompletableFuture.completedFuture(null);
    }
    List<String> candidates = new ArrayList<>();
    for (String poll : v.polls()) {
      if (!owned.containsKey(poll)) {
        candidates.add(poll);
      }
    }
    // Random order, so workers that want more polls at the same moment try different ones.
    Collections.shuffle(candidates);
    return tryAcquire(candidates.iterator(), share);
  }

  /** Tries the candidates one after the other, without waiting, until the share is reached. */
  private CompletionStage<Void> tryAcquire(Iterator<String> candidates, int share) {
    if (!running || !acquiring || owned.size() >= share || !candidates.hasNext()) {
      return CompletableFuture.completedFuture(null);
    }
    String poll = candidates.next();
    CompletionStage<LockHandle> acquire;
    try {
      acquire = locks.acquire(LOCK_PREFIX + poll, Duration.ZERO);
    } catch (RuntimeException e) {
      acquire = CompletableFuture.failedFuture(e);
    }
    return acquire
        .handle(
            (handle, failure) -> {
              if (failure == null) {
                return adopt(poll, handle).thenCompose(v -> tryAcquire(candidates, share));
              }
              Throwable cause = Failures.unwrap(failure);
              if (cause instanceof LockTimeoutException) {
                return tryAcquire(candidates, share); // another worker owns it
              }
              // No policy, backend down: trying the other polls now would fail the same way.
              problem("cannot lock " + LOCK_PREFIX + poll, cause);
              return CompletableFuture.<Void>completedFuture(null);
            })
        .thenCompose(next -> next);
  }

  private CompletionStage<Void> adopt(String poll, LockHandle handle) {
    return folder
        .ensureWatermark(poll)
        .handle(
            (v, failure) -> {
              if (failure != null || !running) {
                if (failure != null) {
                  problem("cannot prepare the watermark of poll '" + poll + "'", failure);
                }
                handle.release();
                return null;
              }
              Owned o = new Owned(poll, handle);
              if (owned.putIfAbsent(poll, o) != null) {
                handle.release();
                return null;
              }
              metrics.track(poll, () -> o.pending);
              metrics.changed(Change.ACQUIRED);
              LOG.infof("owning poll '%s' with token %d", poll, handle.fencingToken());
              handle
                  .lost()
                  .thenAccept(
                      loss -> {
                        LOG.warnf(
                            "lost the lock of poll '%s' (%s: %s); no longer folding it",
                            poll, loss.reason(), loss.detail());
                        drop(o, Change.LOST);
                      });
              return null;
            });
  }

  /**
   * Stops folding {@code o} at once and releases its hold once a running fold has ended (it rolls
   * back, seeing the poll dropped). Runs once per owned poll.
   */
  private CompletionStage<Void> drop(Owned o, Change change) {
    if (!owned.remove(o.poll, o)) {
      return CompletableFuture.completedFuture(null);
    }
    o.dropped = true;
    metrics.forget(o.poll);
    metrics.changed(change);
    if (change == Change.RELEASED) {
      LOG.infof("giving up poll '%s'", o.poll);
    }
    return o.idle
        .thenCompose(v -> o.handle.release())
        .handle(
            (r, failure) -> {
              if (failure != null) {
                LOG.debugf(
                    failure, "release of %s%s failed; its lease will end it", LOCK_PREFIX, o.poll);
              }
              return null;
            });
  }

  /** Logs a problem once until it changes, so a database outage does not flood the log. */
  private void problem(String what, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    String message = what + ": " + cause;
    if (!message.equals(lastProblem)) {
      lastProblem = message;
      LOG.warn(message);
    } else {
      LOG.debug(message);
    }
  }

  private static final class Owned {
    final String poll;
    final LockHandle handle;
    final AtomicBoolean busy = new AtomicBoolean();
    final AtomicLong folds = new AtomicLong();
    final AtomicLong runs = new AtomicLong();
    volatile boolean dropped;
    volatile long pending;
    volatile CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);

    Owned(String poll, LockHandle handle) {
      this.poll = poll;
      this.handle = handle;
    }
  }
}
