package dev.fenced.lock.support;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.LockTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Combining: the requests that wait for the same lock in this process share one hold.
 *
 * <p>Requests are queued per lock name (and, optionally, per group within a name). The request at
 * the head of a queue takes the lock; once it holds, it takes every request already queued behind
 * it, up to {@code maxBatch}, and runs them as one {@link Batch} under that one hold: one acquire,
 * one batch of work, one release, whatever the number of requests. Each request gets its own answer
 * from the batch; a batch that fails fails every request in it, and its work must then have written
 * nothing. This is the lock-level form of a database's group commit and of flat combining.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>No added latency when idle: a request that finds its queue empty asks for the lock at once,
 *       and a batch takes only what is queued when the lock is had; nothing ever waits for more
 *       requests to arrive.
 *   <li>Bounded: a batch holds at most {@code maxBatch} requests; the rest form the next batch.
 *   <li>Order: requests are batched and answered in the order they were submitted.
 *   <li>At most one acquire per queue is in flight. While a batch runs, the next head already asks
 *       for the lock, so a contended lock is handed from batch to batch without a gap; it gets the
 *       lock when the running batch releases it (or at once under a backend without exclusion,
 *       whose batches then overlap, as its holds do). With passing (below) the running batch's hold
 *       serves the queue instead, and the next acquire starts when that hold ends.
 *   <li>Each request waits at most its own {@code maxWait} for a hold; when that passes while it is
 *       still queued, it fails with {@link LockTimeoutException}. The request an acquire is made
 *       for gets that acquire's answer instead (the acquire is given what is left of its wait). A
 *       failed acquire fails only the request it was made for; the next queued request then tries
 *       with its own remaining wait.
 *   <li>Cancelling a request's future withdraws it while it is still queued; once its batch has
 *       started, the batch runs it anyway and the answer is dropped.
 *   <li>Passing within the process (optional, {@code maxBatchesPerHold} above 1): when a batch
 *       succeeds, its hold is still held ({@link Reuse}) and requests have queued meanwhile, the
 *       hold serves them as the next batch instead of being released and taken again: no release,
 *       no acquire, no hand-off through the backend. At most {@code maxBatchesPerHold} batches run
 *       under one hold, then it is released, so other processes waiting for the lock get their turn
 *       (the cohort locks of Dice, Marathe and Shavit pass a global lock within a NUMA node the
 *       same way, with the same bound). Every batch is still fenced by the hold's token: a hold
 *       that ended in between makes its write fail, never succeed twice.
 * </ul>
 *
 * <p>The hold is released by the combiner after its last batch completes, successfully or not. A
 * batch may end the hold itself first (a hold whose release commits a transaction, see {@code
 * dev.fenced.lock.sql.HeldTransactions}); the combiner's release is then a no-op, since releasing a
 * hold that has ended releases nothing.
 *
 * @param <H> the hold, as the {@link Acquire} function makes it
 * @param <T> a request
 * @param <R> the answer to one request
 */
public final class Combiner<H, T, R> {

  /** Takes the lock for one batch. */
  @FunctionalInterface
  public interface Acquire<H, T> {
    /**
     * Acquires {@code name} on behalf of {@code head}, the request at the head of the queue,
     * waiting at most {@code maxWait} (what is left of the head's wait).
     */
    CompletionStage<H> acquire(String name, T head, Duration maxWait);
  }

  /** Ends a hold. Called once per hold, after its batch (or at once if no request is left). */
  @FunctionalInterface
  public interface Release<H> {
    CompletionStage<?> release(H hold);
  }

  /** The work of one batch, under one hold. */
  @FunctionalInterface
  public interface Batch<H, T, R> {
    /**
     * Runs {@code requests} (in submission order, at least one) under {@code hold}. Completes with
     * exactly one answer per request, in the same order; or fails, and then every request of the
     * batch fails with that failure, so the work must have kept none of its effects (roll back).
     */
    CompletionStage<List<R>> run(H hold, List<T> requests);
  }

  /** Whether a hold can serve one more batch. */
  @FunctionalInterface
  public interface Reuse<H> {
    /**
     * True while {@code hold} is held and may serve another batch: its lease has not run out, it
     * was not lost, nothing ended it. Asked once when the hold is had (false: this hold serves one
     * batch, and the next head's acquire starts at once, as without passing; answer false for a
     * hold that its batch ends, such as one whose release is the batch's commit, and for a hold
     * without exclusion, whose batches are meant to overlap) and again before each further batch.
     */
    boolean stillHeld(H hold);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Combiner.class);

  private final Acquire<H, T> acquire;
  private final Batch<H, T, R> batch;
  private final Release<H> release;
  private final int maxBatch;
  private final int maxBatchesPerHold;
  private final Reuse<H> reuse;
  private final LeaseKeeper timer;
  private final ConcurrentHashMap<Key, Lane> lanes = new ConcurrentHashMap<>();

  /**
   * @param acquire takes the lock for a batch
   * @param batch runs a batch under its hold
   * @param release ends a hold after its batch
   * @param maxBatch the most requests one hold serves; 1 turns combining off (one hold per request)
   * @param timer runs the wait deadlines of queued requests; owned by the caller
   */
  public Combiner(
      Acquire<H, T> acquire,
      Batch<H, T, R> batch,
      Release<H> release,
      int maxBatch,
      LeaseKeeper timer) {
    this(acquire, batch, release, maxBatch, 1, hold -> false, timer);
  }

  /**
   * @param acquire takes the lock for a batch
   * @param batch runs a batch under its hold
   * @param release ends a hold after its last batch
   * @param maxBatch the most requests one batch serves; 1 turns combining off
   * @param maxBatchesPerHold the most batches one hold serves in a row (requests queued while its
   *     batch ran); 1 releases after every batch
   * @param reuse whether a hold can serve another batch
   * @param timer runs the wait deadlines of queued requests; owned by the caller
   */
  public Combiner(
      Acquire<H, T> acquire,
      Batch<H, T, R> batch,
      Release<H> release,
      int maxBatch,
      int maxBatchesPerHold,
      Reuse<H> reuse,
      LeaseKeeper timer) {
    this.acquire = Objects.requireNonNull(acquire, "acquire");
    this.batch = Objects.requireNonNull(batch, "batch");
    this.release = Objects.requireNonNull(release, "release");
    this.reuse = Objects.requireNonNull(reuse, "reuse");
    this.timer = Objects.requireNonNull(timer, "timer");
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, was " + maxBatch);
    }
    if (maxBatchesPerHold < 1) {
      throw new IllegalArgumentException(
          "maxBatchesPerHold must be at least 1, was " + maxBatchesPerHold);
    }
    this.maxBatch = maxBatch;
    this.maxBatchesPerHold = maxBatchesPerHold;
  }

  /** A combiner whose holds come straight from {@code locks}. */
  public static <T, R> Combiner<LockHandle, T, R> onLocks(
      LockService locks, Batch<LockHandle, T, R> batch, int maxBatch, LeaseKeeper timer) {
    return new Combiner<>(
        (name, head, maxWait) -> locks.acquire(name, maxWait),
        batch,
        LockHandle::release,
        maxBatch,
        timer);
  }

  /** The most requests one batch serves. */
  public int maxBatch() {
    return maxBatch;
  }

  /** {@link #submit(String, String, Object, Duration)} with every request of a name combinable. */
  public CompletableFuture<R> submit(String name, T request, Duration maxWait) {
    return submit(name, "", request, maxWait);
  }

  /**
   * Queues {@code request} for a hold of {@code name}. Only requests of the same name and {@code
   * group} share a batch: a group keeps apart requests that a batch cannot mix although they take
   * the same lock.
   *
   * @return completes with the request's own answer; fails with {@link LockTimeoutException} when
   *     no hold served it within {@code maxWait}, with the acquire's failure when the acquire made
   *     for it failed, or with its batch's failure
   * @throws IllegalArgumentException for a blank name, a null group or request, a negative wait
   */
  public CompletableFuture<R> submit(String name, String group, T request, Duration maxWait) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
    }
    Entry entry = new Entry(request, maxWait);
    Key key = new Key(name, group);
    boolean[] leads = new boolean[1];
    Lane lane =
        lanes.compute(
            key,
            (k, existing) -> {
              Lane l = existing == null ? new Lane(k) : existing;
              synchronized (l) {
                l.queue.addLast(entry);
                if (!l.acquiring) {
                  l.acquiring = true;
                  leads[0] = true;
                }
              }
              return l;
            });
    armDeadline(lane, entry);
    if (leads[0]) {
      startAcquire(lane);
    }
    return entry.result;
  }

  /** How many requests of {@code name} (all groups) are queued and not yet in a batch. */
  public int queued(String name) {
    int n = 0;
    for (Lane lane : lanes.values()) {
      if (lane.key.name.equals(name)) {
        synchronized (lane) {
          n += lane.queue.size();
        }
      }
    }
    return n;
  }

  private void armDeadline(Lane lane, Entry entry) {
    ScheduledFuture<?> deadline;
    try {
      deadline = timer.schedule(() -> expire(lane, entry), entry.deadline - System.nanoTime());
    } catch (RuntimeException e) {
      // The timer is closed: the wait is still bounded by the acquire's own maxWait.
      return;
    }
    entry.result.whenComplete((r, e) -> deadline.cancel(false));
  }

  private void expire(Lane lane, Entry entry) {
    boolean removed;
    synchronized (lane) {
      // The request an acquire is in flight for waits for that acquire's answer, which comes
      // within the same wait.
      removed = !entry.taken && !entry.leading && lane.queue.remove(entry);
      if (removed) {
        entry.taken = true;
      }
    }
    if (removed) {
      entry.result.completeExceptionally(new LockTimeoutException(lane.key.name, entry.maxWait));
      retireIfIdle(lane);
    }
  }

  /** Asks for the lock on behalf of the first live request, or stops when none is left. */
  private void startAcquire(Lane lane) {
    Entry head;
    synchronized (lane) {
      head = dropDead(lane);
      if (head == null) {
        lane.acquiring = false;
      } else {
        head.leading = true;
      }
    }
    if (head == null) {
      retireIfIdle(lane);
      return;
    }
    // What is left of the head's wait; none left means one try without waiting.
    Duration wait = Duration.ofNanos(Math.max(0, head.deadline - System.nanoTime()));
    CompletionStage<H> stage;
    try {
      stage = acquire.acquire(lane.key.name, head.request, wait);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((hold, error) -> acquired(lane, head, hold, error));
  }

  private void acquired(Lane lane, Entry leader, H hold, Throwable error) {
    if (error != null) {
      boolean owned;
      synchronized (lane) {
        leader.leading = false;
        owned = !leader.taken && lane.queue.remove(leader);
        if (owned) {
          leader.taken = true;
        }
      }
      if (owned) {
        leader.result.completeExceptionally(Failures.unwrap(error));
      }
      startAcquire(lane);
      return;
    }
    // A hold that can serve more than one batch looks at the queue when its batch ends, and no
    // acquire runs meanwhile; any other hold is followed by the next head's acquire at once.
    boolean passing = maxBatchesPerHold > 1 && stillHeld(hold);
    List<Entry> taken;
    boolean more;
    synchronized (lane) {
      leader.leading = false;
      taken = takeBatch(lane);
      if (passing && !taken.isEmpty()) {
        more = false;
      } else {
        more = dropDead(lane) != null;
        lane.acquiring = more;
      }
    }
    if (taken.isEmpty()) {
      end(hold);
    } else {
      run(lane, hold, taken, passing, 1);
    }
    if (more) {
      startAcquire(lane);
    } else {
      retireIfIdle(lane);
    }
  }

  /** Takes up to {@code maxBatch} live requests off the front of the queue. Guarded by the lane. */
  private List<Entry> takeBatch(Lane lane) {
    List<Entry> taken = new ArrayList<>(Math.min(maxBatch, 16));
    while (taken.size() < maxBatch) {
      Entry e = lane.queue.pollFirst();
      if (e == null) {
        break;
      }
      if (!e.result.isDone()) {
        e.taken = true;
        taken.add(e);
      }
    }
    return taken;
  }

  /**
   * Runs one batch under {@code hold}, the {@code served}-th in a row. A passing hold then either
   * serves the requests queued meanwhile or ends, and whoever queued since asks for the lock; any
   * other hold just ends, since the next head's acquire is already under way.
   */
  private void run(Lane lane, H hold, List<Entry> taken, boolean passing, int served) {
    String name = lane.key.name;
    List<T> requests = new ArrayList<>(taken.size());
    for (Entry e : taken) {
      requests.add(e.request);
    }
    CompletionStage<List<R>> work;
    try {
      work = batch.run(hold, List.copyOf(requests));
    } catch (RuntimeException e) {
      work = CompletableFuture.failedFuture(e);
    }
    work.whenComplete(
        (answers, failure) -> {
          Throwable cause = failure == null ? null : Failures.unwrap(failure);
          if (cause == null && (answers == null || answers.size() != taken.size())) {
            cause =
                new IllegalStateException(
                    "the batch of lock '"
                        + name
                        + "' answered "
                        + (answers == null ? "null" : answers.size() + " results")
                        + " for "
                        + taken.size()
                        + " requests");
          }
          List<Entry> next =
              cause == null && passing && served < maxBatchesPerHold
                  ? nextUnderSameHold(lane, hold)
                  : List.of();
          if (next.isEmpty()) {
            end(hold);
          }
          for (int i = 0; i < taken.size(); i++) {
            if (cause == null) {
              taken.get(i).result.complete(answers.get(i));
            } else {
              taken.get(i).result.completeExceptionally(cause);
            }
          }
          if (!next.isEmpty()) {
            run(lane, hold, next, true, served + 1);
          } else if (passing) {
            afterLastBatch(lane);
          }
        });
  }

  /** The hold has ended: whoever queued since asks for the lock anew. */
  private void afterLastBatch(Lane lane) {
    boolean more;
    synchronized (lane) {
      more = dropDead(lane) != null;
      lane.acquiring = more;
    }
    if (more) {
      startAcquire(lane);
    } else {
      retireIfIdle(lane);
    }
  }

  /**
   * The next batch for a hold that may serve one more: the requests queued while its batch ran, if
   * it is still held; none, and the hold is to be ended, otherwise.
   */
  private List<Entry> nextUnderSameHold(Lane lane, H hold) {
    synchronized (lane) {
      if (dropDead(lane) == null) {
        return List.of();
      }
    }
    if (!stillHeld(hold)) {
      return List.of();
    }
    synchronized (lane) {
      return takeBatch(lane);
    }
  }

  private boolean stillHeld(H hold) {
    try {
      return reuse.stillHeld(hold);
    } catch (RuntimeException e) {
      LOG.warn("could not tell whether a hold can serve another batch: {}", e.toString());
      return false;
    }
  }

  private void end(H hold) {
    CompletionStage<?> ended;
    try {
      ended = release.release(hold);
    } catch (RuntimeException e) {
      ended = CompletableFuture.failedFuture(e);
    }
    ended.whenComplete(
        (r, e) -> {
          if (e != null) {
            LOG.warn("release after a batch failed; the lease will end the hold: {}", e.toString());
          }
        });
  }

  /** Drops finished requests from the front; returns the first live one. Guarded by the lane. */
  private Entry dropDead(Lane lane) {
    Entry head;
    while ((head = lane.queue.peekFirst()) != null && head.result.isDone()) {
      lane.queue.pollFirst();
    }
    return head;
  }

  private void retireIfIdle(Lane lane) {
    lanes.computeIfPresent(
        lane.key,
        (k, current) -> {
          if (current != lane) {
            return current;
          }
          synchronized (current) {
            return current.queue.isEmpty() && !current.acquiring ? null : current;
          }
        });
  }

  private record Key(String name, String group) {}

  private final class Lane {
    final Key key;
    // Guarded by this lane.
    final ArrayDeque<Entry> queue = new ArrayDeque<>();
    boolean acquiring;

    Lane(Key key) {
      this.key = key;
    }
  }

  private final class Entry {
    final T request;
    final Duration maxWait;
    final long deadline;
    final CompletableFuture<R> result = new CompletableFuture<>();
    // Guarded by the lane: in a batch, or failed by the combiner.
    boolean taken;
    // Guarded by the lane: an acquire is in flight on this request's behalf.
    boolean leading;

    Entry(T request, Duration maxWait) {
      this.request = request;
      this.maxWait = maxWait;
      this.deadline = System.nanoTime() + maxWait.toNanos();
    }
  }
}
