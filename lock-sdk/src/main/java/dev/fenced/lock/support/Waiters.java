package dev.fenced.lock.support;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The local wait queue of each lock name, fed by a backend's release notifications (Redis pub/sub,
 * PostgreSQL NOTIFY, a Kubernetes watch, a local release).
 *
 * <p>Waiters of one name in this process queue in arrival order, and only the <em>head</em> of the
 * queue tries the backend. A notification wakes the head alone, not every waiter of the name: one
 * release costs one attempt per process instead of one per waiter. When the head leaves (it holds,
 * gives up or fails), the next waiter becomes head; if the head left without holding, the new head
 * tries at once, since the wake-up it may have used is gone with it. Waiters still acquire through
 * the backend, so correctness across processes and the fencing tokens are what the backend makes
 * them; the queue only decides who in this process tries next.
 *
 * <p>No wake-up is lost: the head arms its signal ({@link Waiter#arm()}) <em>before</em> each
 * attempt, so a release that lands between the attempt and the wait completes it; and the head also
 * retries on a bounded, jittered back-off ({@link AcquireLoop}), so a notification that never
 * arrives delays it, but never strands it or the waiters behind it.
 */
public final class Waiters {

  private final ConcurrentHashMap<String, ArrayDeque<Waiter>> queues = new ConcurrentHashMap<>();

  /**
   * Queues a new waiter for {@code name}; its {@link Waiter#turn()} completes when it is the head.
   */
  public Waiter join(String name) {
    Waiter waiter = new Waiter(name);
    boolean[] first = new boolean[1];
    queues.compute(
        name,
        (n, queue) -> {
          ArrayDeque<Waiter> q = queue == null ? new ArrayDeque<>() : queue;
          synchronized (q) {
            q.addLast(waiter);
            waiter.queue = q;
            first[0] = q.size() == 1;
            if (first[0]) {
              waiter.head = true;
            }
          }
          return q;
        });
    if (first[0]) {
      waiter.turn.complete(Boolean.TRUE);
    }
    return waiter;
  }

  /** Wakes the head waiter of {@code name}: something was released, it may try again. */
  public void wake(String name) {
    CompletableFuture<Void> signal = null;
    ArrayDeque<Waiter> queue = queues.get(name);
    if (queue != null) {
      synchronized (queue) {
        Waiter head = queue.peekFirst();
        if (head != null) {
          signal = head.signal;
        }
      }
    }
    if (signal != null) {
      signal.complete(null);
    }
  }

  /**
   * Wakes the head waiter of every name, e.g. after a reconnect when notifications may have been
   * missed.
   */
  public void wakeAll() {
    for (String name : queues.keySet()) {
      wake(name);
    }
  }

  /** How many waiters of {@code name} are queued in this process, the head included. */
  public int waiting(String name) {
    ArrayDeque<Waiter> queue = queues.get(name);
    if (queue == null) {
      return 0;
    }
    synchronized (queue) {
      return queue.size();
    }
  }

  /** One waiter's place in its name's queue. */
  public final class Waiter {

    private final String name;
    private final CompletableFuture<Boolean> turn = new CompletableFuture<>();
    private volatile ArrayDeque<Waiter> queue;
    // Guarded by the queue.
    private boolean head;
    private boolean gone;
    private CompletableFuture<Void> signal;

    private Waiter(String name) {
      this.name = name;
    }

    /**
     * Completes when this waiter becomes the head: with true when it should try at once (it came
     * first, or the head before it left without holding), false when the head before it now holds
     * and a release is to be awaited ({@link #armed()} then is the signal to wait on).
     */
    public CompletableFuture<Boolean> turn() {
      return turn;
    }

    /** A fresh signal that the next {@link Waiters#wake(String)} of this name completes. */
    public CompletableFuture<Void> arm() {
      CompletableFuture<Void> fresh = new CompletableFuture<>();
      synchronized (queue) {
        signal = fresh;
      }
      return fresh;
    }

    /** The signal armed when this waiter became head behind a holder. */
    public CompletableFuture<Void> armed() {
      synchronized (queue) {
        if (signal == null) {
          signal = new CompletableFuture<>();
        }
        return signal;
      }
    }

    /**
     * Leaves the queue only if this waiter is not the head; for a waiter whose time ran out while
     * queued. Returns false when it is the head (its own loop then leaves by {@link #leave}).
     */
    public boolean leaveIfQueued() {
      boolean[] removed = new boolean[1];
      queues.computeIfPresent(
          name,
          (n, q) -> {
            synchronized (q) {
              if (!head && !gone) {
                removed[0] = q.remove(this);
                gone = true;
              }
              return q.isEmpty() ? null : q;
            }
          });
      return removed[0];
    }

    /**
     * Leaves the queue for good. The next waiter becomes head: told to wait for a release when this
     * one now holds the lock, told to try at once otherwise.
     */
    public void leave(boolean holds) {
      List<Runnable> after = new ArrayList<>(1);
      queues.computeIfPresent(
          name,
          (n, q) -> {
            synchronized (q) {
              if (gone) {
                return q.isEmpty() ? null : q;
              }
              gone = true;
              boolean wasHead = q.peekFirst() == this;
              q.remove(this);
              Waiter next = q.peekFirst();
              if (wasHead && next != null && !next.head) {
                next.head = true;
                if (holds) {
                  next.signal = new CompletableFuture<>();
                }
                after.add(() -> next.turn.complete(!holds));
              }
              return q.isEmpty() ? null : q;
            }
          });
      after.forEach(Runnable::run);
    }
  }
}
