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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Owns a fair share of the tally shards through the locks {@code tally:shard-{i}-of-{n}} and folds
 * the new ballots of the shards' polls into their tallies, every {@link
 * TallySettings#foldInterval()}.
 *
 * <p>Every {@link TallySettings#heartbeatInterval()} the worker beats in the membership table,
 * learns the live workers, gives up the shards another live worker wants ({@link Sharding#wanted}),
 * and tries, without waiting, to lock the shards it wants and does not hold. A lock held by a
 * crashed worker lapses after its lease; by then the crashed worker has left the membership, the
 * others want its shards, and their next try wins.
 *
 * <p>Every fold tick: one scan finds the polls with ballots past the worker's cursor (a transaction
 * id; see {@link Folder}); the polls of owned shards among them are marked, and each owned shard
 * with marked polls is folded in one fenced transaction. Then the cursor moves to the scan's
 * snapshot horizon. A shard just taken over is first searched from its stored horizon. Nothing is
 * done per idle poll, and nothing per poll is held: the work per tick follows the new ballots, the
 * work per heartbeat the shards.
 *
 * <p>A shard stops being folded at once when its hold reports loss ({@link LockHandle#lost()}) or a
 * fold is refused by the fence; a fold already running is rolled back before it commits. The fence
 * in storage is what makes that safe when a worker learns of its loss late.
 *
 * <p>Not tied to Quarkus: the service wires it, and tests run several in one JVM.
 */
public final class TallyWorker {

  /** Every tally lock name starts with this prefix ({@link Sharding#lockName}). */
  public static final String LOCK_PREFIX = Sharding.LOCK_PREFIX;

  private static final Logger LOG = Logger.getLogger(TallyWorker.class);

  /**
   * An owned shard, for status pages and tests.
   *
   * @param lock the shard's lock name
   * @param token the fencing token of this worker's hold
   * @param waitingPolls polls of the shard with ballots found but not yet folded
   * @param folds folds that committed ballots
   * @param runs fold transactions run, whatever their outcome
   */
  public record OwnedShard(
      int shard, String lock, long token, int waitingPolls, long folds, long runs) {}

  private final Vertx vertx;
  private final PolicyLocks locks;
  private final TallySettings settings;
  private final Sharding sharding;
  private final Folder folder;
  private final Membership membership;
  private final TallyMetrics metrics;
  private final ConcurrentHashMap<Integer, Owned> owned = new ConcurrentHashMap<>();
  private final AtomicBoolean rebalancing = new AtomicBoolean();
  private final AtomicBoolean folding = new AtomicBoolean();
  private final AtomicLong scans = new AtomicLong();
  private volatile boolean running;
  private volatile boolean acquiring = true;

  /** The last acquire failed for another reason than a held lock: backend down, no policy. */
  private volatile boolean lockTrouble;

  private volatile Membership.View view;
  private volatile List<Integer> wanted = List.of();

  /**
   * Every ballot with a smaller transaction id is folded, for every owned shard not catching up; -1
   * before the first scan.
   */
  private volatile long cursor = -1;

  private volatile long raisedTo = -1;
  private volatile long pendingBallots;

  /** {@link System#nanoTime()} when the oldest ballot not yet folded was cast; 0 when none. */
  private volatile long oldestUnfoldedNanos;

  private volatile long lastTickNanos = System.nanoTime();
  private volatile String lastProblem;
  private long foldTimer = -1;
  private long beatTimer = -1;

  public TallyWorker(
      Vertx vertx, Pool pool, PolicyLocks locks, TallySettings settings, MeterRegistry registry) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.locks = Objects.requireNonNull(locks, "locks");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.sharding = new Sharding(settings.shards());
    this.folder = new Folder(pool);
    this.membership = new Membership(pool, settings.workerId(), settings.memberExpiry());
    this.view = Membership.View.alone(settings.workerId());
    this.metrics = new TallyMetrics(registry, owned::size, this::lagSeconds, () -> pendingBallots);
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
    LOG.infof("tally worker %s started (%d shards)", settings.workerId(), sharding.count());
  }

  /**
   * Stops: no new folds, the running ones finish or roll back, every hold is released so other
   * workers can take the shards at once, and this worker leaves the membership table.
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

  /**
   * While false the worker folds what it owns but takes no new shards, and leaves the membership so
   * that the others want every shard.
   */
  public void setAcquiring(boolean acquiring) {
    this.acquiring = acquiring;
  }

  public String workerId() {
    return settings.workerId();
  }

  /** The number of shards the polls are spread over. */
  public int shards() {
    return sharding.count();
  }

  public List<OwnedShard> owned() {
    return owned.values().stream()
        .map(
            o ->
                new OwnedShard(
                    o.shard,
                    sharding.lockName(o.shard),
                    o.handle.fencingToken(),
                    o.waiting.size(),
                    o.folds.get(),
                    o.runs.get()))
        .sorted(Comparator.comparingInt(OwnedShard::shard))
        .toList();
  }

  /** Live workers at the last heartbeat, this one included. */
  public long liveWorkers() {
    return view.liveWorkers();
  }

  /** How many shards this worker wants, as of the last heartbeat. */
  public int fairShare() {
    return wanted.size();
  }

  /** Scans for new ballots run so far: one per fold tick that owned a shard. */
  public long scans() {
    return scans.get();
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
    if (!running || !folding.compareAndSet(false, true)) {
      return;
    }
    CompletionStage<Void> tick;
    try {
      tick = scanAndFold();
    } catch (RuntimeException e) {
      tick = CompletableFuture.failedFuture(e);
    }
    tick.whenComplete(
        (v, failure) -> {
          folding.set(false);
          if (failure != null) {
            problem("folding failed", failure);
          }
        });
  }

  private CompletionStage<Void> scanAndFold() {
    List<Owned> shards = owned.values().stream().filter(Owned::active).toList();
    if (shards.isEmpty()) {
      pendingBallots = 0;
      oldestUnfoldedNanos = 0;
      return CompletableFuture.completedFuture(null);
    }
    long from = cursor;
    for (Owned o : shards) {
      if (o.catchUpFrom >= 0 && (from < 0 || o.catchUpFrom < from)) {
        from = o.catchUpFrom;
      }
    }
    long scannedAt = System.nanoTime();
    long start = Math.max(0, from);
    scans.incrementAndGet();
    return folder
        .discover(start)
        .thenCompose(
            found -> {
              Map<Integer, Owned> byShard = new HashMap<>();
              shards.forEach(o -> byShard.put(o.shard, o));
              long pending = 0;
              long oldestPendingNanos = 0;
              for (Folder.Activity a : found.polls()) {
                Owned o = byShard.get(sharding.shardOf(a.poll()));
                if (o == null) {
                  continue;
                }
                long since = o.catchUpFrom >= 0 ? o.catchUpFrom : cursor;
                if (a.readyMaxTx() >= since) {
                  o.mark(a.poll(), a.ready(), scannedAt - seconds(a.readyAge()));
                }
                if (a.pending() > 0) {
                  pending += a.pending();
                  oldestPendingNanos =
                      earliest(oldestPendingNanos, scannedAt - seconds(a.pendingAge()));
                }
              }
              long horizon = found.horizon();
              List<CompletableFuture<Void>> folds = new ArrayList<>();
              for (Owned o : shards) {
                if (!o.waiting.isEmpty()) {
                  folds.add(foldShard(o, horizon).toCompletableFuture());
                }
              }
              long pendingNow = pending;
              long oldestPendingNow = oldestPendingNanos;
              return CompletableFuture.allOf(folds.toArray(new CompletableFuture[0]))
                  .thenRun(
                      () -> {
                        // Everything of these shards below the horizon is folded or marked.
                        shards.forEach(o -> o.catchUpFrom = -1);
                        cursor = horizon;
                        account(pendingNow, oldestPendingNow);
                      });
            });
  }

  /** Updates the lag gauges: ballots found and not folded, and when the oldest was cast. */
  private void account(long pending, long oldestPending) {
    long total = pending;
    long oldest = oldestPending;
    for (Owned o : owned.values()) {
      if (!o.dropped) {
        for (long n : o.waiting.values()) {
          total += n;
        }
        if (!o.waiting.isEmpty()) {
          oldest = earliest(oldest, o.waitingSinceNanos);
        }
      }
    }
    pendingBallots = total;
    oldestUnfoldedNanos = oldest;
  }

  private double lagSeconds() {
    long oldest = oldestUnfoldedNanos;
    return oldest == 0 ? 0 : Math.max(0, System.nanoTime() - oldest) / 1e9;
  }

  /** Folds the shard's marked polls; they stay marked unless the fold covered them. */
  private CompletionStage<Void> foldShard(Owned o, long horizon) {
    if (!o.active() || !o.busy.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    o.idle = done;
    List<String> polls = List.copyOf(o.waiting.keySet());
    CompletionStage<Folder.Result> fold;
    try {
      fold = folder.fold(sharding, o.shard, Fence.of(o.handle), polls, horizon, () -> o.active());
    } catch (RuntimeException e) {
      fold = CompletableFuture.failedFuture(e);
    }
    return fold.handle(
        (result, failure) -> {
          try {
            if (failure != null) {
              problem("folding shard " + o.shard + " failed", failure);
            } else {
              onFolded(o, polls, result);
            }
          } finally {
            o.runs.incrementAndGet();
            o.busy.set(false);
            done.complete(null);
          }
          return null;
        });
  }

  private void onFolded(Owned o, List<String> polls, Folder.Result result) {
    switch (result.outcome()) {
      case FOLDED, NOTHING_NEW -> {
        o.unmark(polls);
        if (result.outcome() == Folder.Outcome.FOLDED) {
          o.folds.incrementAndGet();
          metrics.folded(result.folded());
        }
      }
      case CONFLICT ->
          LOG.debugf("fold of shard %d met another fold of the same polls; retrying", o.shard);
      case REJECTED -> {
        metrics.rejected();
        LOG.warnf(
            "fold of %s with token %d was refused by the fence: a newer owner folded; giving the"
                + " shard up",
            sharding.lockName(o.shard), o.handle.fencingToken());
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
      // A worker that takes no shards, or cannot reach the lock backend, steps out of the
      // membership so the others want its shards; it counts itself alone meanwhile.
      CompletionStage<Membership.View> members =
          acquiring && !lockTrouble
              ? membership.beat()
              : membership.leave().thenApply(v -> Membership.View.alone(settings.workerId()));
      pass =
          members
              .thenCompose(
                  v -> {
                    view = v;
                    metrics.liveWorkers(v.liveWorkers());
                    return rebalance(v);
                  })
              .thenCompose(v -> raiseHorizons());
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
    List<Integer> want = sharding.wanted(v.rank(), v.liveWorkers());
    wanted = want;
    Set<Integer> keep = new HashSet<>(want);
    for (Owned o : owned.values()) {
      if (!keep.contains(o.shard)) {
        drop(o, Change.RELEASED);
      }
    }
    if (!acquiring) {
      return CompletableFuture.completedFuture(null);
    }
    List<Integer> missing = want.stream().filter(s -> !owned.containsKey(s)).toList();
    return tryAcquire(missing.iterator());
  }

  /** Tries the shards one after the other, without waiting for a held one. */
  private CompletionStage<Void> tryAcquire(Iterator<Integer> shards) {
    if (!running || !acquiring || !shards.hasNext()) {
      return CompletableFuture.completedFuture(null);
    }
    int shard = shards.next();
    String name = sharding.lockName(shard);
    CompletionStage<LockHandle> acquire;
    try {
      acquire = locks.acquire(name, Duration.ZERO);
    } catch (RuntimeException e) {
      acquire = CompletableFuture.failedFuture(e);
    }
    return acquire
        .handle(
            (handle, failure) -> {
              if (failure == null) {
                lockTrouble = false;
                return adopt(shard, handle).thenCompose(v -> tryAcquire(shards));
              }
              Throwable cause = Failures.unwrap(failure);
              if (cause instanceof LockTimeoutException) {
                lockTrouble = false;
                return tryAcquire(shards); // still held: its owner has not let go yet
              }
              // No policy, backend down: trying the other shards now would fail the same way.
              lockTrouble = true;
              problem("cannot lock " + name, cause);
              return CompletableFuture.<Void>completedFuture(null);
            })
        .thenCompose(next -> next);
  }

  private CompletionStage<Void> adopt(int shard, LockHandle handle) {
    return folder
        .claim(sharding, shard)
        .handle(
            (horizon, failure) -> {
              if (failure != null || !running) {
                if (failure != null) {
                  problem("cannot read the horizon of shard " + shard, failure);
                }
                handle.release();
                return null;
              }
              Owned o = new Owned(shard, handle, horizon);
              if (owned.putIfAbsent(shard, o) != null) {
                handle.release();
                return null;
              }
              metrics.changed(Change.ACQUIRED);
              LOG.infof(
                  "owning %s with token %d, searching from %d",
                  sharding.lockName(shard), handle.fencingToken(), horizon);
              handle
                  .lost()
                  .thenAccept(
                      loss -> {
                        LOG.warnf(
                            "lost the lock %s (%s: %s); no longer folding it",
                            sharding.lockName(shard), loss.reason(), loss.detail());
                        drop(o, Change.LOST);
                      });
              return null;
            });
  }

  /**
   * Stores, for the shards with nothing waiting, that every ballot below the cursor is folded, so a
   * worker that takes one over starts its search there. One statement for all of them.
   */
  private CompletionStage<Void> raiseHorizons() {
    long at = cursor; // read before the shards' state: the cursor moves only after their folds
    if (at < 0 || at == raisedTo) {
      return CompletableFuture.completedFuture(null);
    }
    List<Integer> settled =
        owned.values().stream()
            .filter(o -> o.active() && o.catchUpFrom < 0 && o.waiting.isEmpty())
            .map(o -> o.shard)
            .toList();
    if (settled.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return folder.raiseHorizons(sharding, settled, at).thenRun(() -> raisedTo = at);
  }

  /**
   * Stops folding {@code o} at once and releases its hold once a running fold has ended (it rolls
   * back, seeing the shard dropped). Runs once per owned shard.
   */
  private CompletionStage<Void> drop(Owned o, Change change) {
    if (!owned.remove(o.shard, o)) {
      return CompletableFuture.completedFuture(null);
    }
    o.dropped = true;
    metrics.changed(change);
    if (change == Change.RELEASED) {
      LOG.infof("giving up %s", sharding.lockName(o.shard));
    }
    return o.idle
        .thenCompose(v -> o.handle.release())
        .handle(
            (r, failure) -> {
              if (failure != null) {
                LOG.debugf(
                    failure,
                    "release of %s failed; its lease will end it",
                    sharding.lockName(o.shard));
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

  private static long seconds(double seconds) {
    return (long) (seconds * 1e9);
  }

  private static long earliest(long a, long b) {
    return a == 0 ? b : Math.min(a, b);
  }

  private static final class Owned {
    final int shard;
    final LockHandle handle;
    final AtomicBoolean busy = new AtomicBoolean();
    final AtomicLong folds = new AtomicLong();
    final AtomicLong runs = new AtomicLong();

    /** Polls with ballots found and not yet folded, with how many. */
    final ConcurrentHashMap<String, Long> waiting = new ConcurrentHashMap<>();

    /** When the oldest of the waiting ballots was cast ({@link System#nanoTime()}). */
    volatile long waitingSinceNanos;

    /** Until the first scan after taking the shard: search its ballots from this horizon. */
    volatile long catchUpFrom;

    volatile boolean dropped;
    volatile CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);

    Owned(int shard, LockHandle handle, long horizon) {
      this.shard = shard;
      this.handle = handle;
      this.catchUpFrom = horizon;
    }

    boolean active() {
      return !dropped && handle.isHeld();
    }

    void mark(String poll, long ballots, long castAtNanos) {
      if (waiting.isEmpty()) {
        waitingSinceNanos = castAtNanos;
      } else {
        waitingSinceNanos = Math.min(waitingSinceNanos, castAtNanos);
      }
      waiting.merge(poll, ballots, Long::sum);
    }

    void unmark(List<String> polls) {
      polls.forEach(waiting::remove);
    }
  }
}
