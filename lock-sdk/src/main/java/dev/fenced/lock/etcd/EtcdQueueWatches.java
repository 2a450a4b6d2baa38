package dev.fenced.lock.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/**
 * One watch of a lock's directory per service, shared by all of the service's waiters on that lock.
 * jetcd opens a gRPC stream of its own for every watch, and etcd sets up a watch stream
 * (goroutines, a watcher) for each: with one per wait, a contended hold cost the etcd server
 * 2.3–2.8 ms of CPU in the vote system, and 2.0 ms with one per lock. The watch stays open while
 * the service has waiters on the lock and for {@link #LINGER} after the last, so a lock that is
 * busy keeps its one stream.
 *
 * <p>The watch starts at etcd's current revision (a watch that starts in the past is served by a
 * catch-up loop that runs every 100 ms). A waiter joins after its read of the queue, so deletions
 * between that read and its joining may have passed already: it trusts what the watch delivers only
 * once a read sent after it joined, and after the watch was created, found the keys it waits on
 * still there ({@link Waiter#check}), or when the watch was created at the revision of its read.
 */
final class EtcdQueueWatches {

  /** How long the watch of a lock stays open after its last waiter left. */
  static final Duration LINGER = Duration.ofSeconds(2);

  /** What a waiter hears from its lock's watch. */
  interface Waiter {
    /** The revision the waiter read the queue at. */
    long readAt();

    /** Deletions under the directory, in revision order. */
    void deleted(List<io.etcd.jetcd.watch.WatchEvent> events);

    /**
     * Prove that nothing the waiter waits on went before it could hear of it: reads, then reports
     * to the waiter. Called once the watch runs, unless it was created at {@link #readAt()}.
     */
    void check();

    /** The watch was created at the revision of the read: nothing can have been missed. */
    void trusted();

    /** The watch ended (an error, a replaced client, the service closing): look again. */
    void ended();
  }

  private final EtcdLockService service;
  private final Map<ByteSequence, Shared> watches = new HashMap<>();

  EtcdQueueWatches(EtcdLockService service) {
    this.service = service;
  }

  /** Adds {@code waiter} to the watch of {@code dir}, opening it if needed. */
  void join(ByteSequence dir, Waiter waiter) {
    boolean running;
    synchronized (this) {
      Shared shared = watches.get(dir);
      if (shared == null) {
        shared = new Shared(dir);
        watches.put(dir, shared);
        shared.open();
      }
      running = shared.add(waiter);
    }
    if (running) {
      waiter.check(); // the watch runs already: prove nothing passed before the waiter joined
    }
  }

  /** Removes {@code waiter}; the watch closes {@link #LINGER} after its last waiter left. */
  void leave(ByteSequence dir, Waiter waiter) {
    synchronized (this) {
      Shared shared = watches.get(dir);
      if (shared != null) {
        shared.remove(waiter);
      }
    }
  }

  /** Ends every watch: the service closes. */
  void closeAll() {
    List<Shared> all;
    synchronized (this) {
      all = List.copyOf(watches.values());
      watches.clear();
    }
    all.forEach(Shared::end);
  }

  private synchronized void forget(Shared shared) {
    watches.remove(shared.dir, shared);
  }

  /** One open watch and its waiters; guarded by the enclosing instance's lock. */
  private final class Shared {
    final ByteSequence dir;
    final Set<Waiter> waiters = new LinkedHashSet<>();
    Watch.Watcher watcher;
    long createdAt = -1;
    boolean ended;
    ScheduledFuture<?> closing;

    Shared(ByteSequence dir) {
      this.dir = dir;
    }

    void open() {
      Client client = service.client();
      try {
        watcher =
            client
                .getWatchClient()
                .watch(
                    dir,
                    WatchOption.builder()
                        .isPrefix(true)
                        .withNoPut(true)
                        .withCreateNotify(true)
                        .build(),
                    Watch.listener(this::onResponse, error -> end(), this::end));
      } catch (RuntimeException e) {
        // No watch: the waiters hear nothing and wake at their deadline or on the next
        // reconnect; end it at once instead, off this lock, so they look again.
        service.keeper().schedule(this::end, 0);
      }
    }

    /** True when the watch runs already (its created answer came). */
    boolean add(Waiter waiter) {
      if (closing != null) {
        closing.cancel(false);
        closing = null;
      }
      waiters.add(waiter);
      return createdAt >= 0;
    }

    void remove(Waiter waiter) {
      if (waiters.remove(waiter) && waiters.isEmpty() && !ended) {
        closing = service.keeper().schedule(this::closeIfIdle, LINGER.toNanos());
      }
    }

    private void closeIfIdle() {
      synchronized (EtcdQueueWatches.this) {
        if (!waiters.isEmpty() || ended) {
          return;
        }
        ended = true;
        forget(this);
      }
      closeWatcher();
    }

    /** Closes the watch; there is none when {@link #open} was refused. */
    private void closeWatcher() {
      if (watcher != null) {
        watcher.close();
      }
    }

    private void onResponse(WatchResponse response) {
      List<Waiter> now;
      synchronized (EtcdQueueWatches.this) {
        if (ended) {
          return;
        }
        now = List.copyOf(waiters);
        if (response.isCreatedNotify()) {
          createdAt = response.getHeader().getRevision();
        }
      }
      if (response.isCreatedNotify()) {
        for (Waiter waiter : now) {
          if (waiter.readAt() == createdAt) {
            waiter.trusted();
          } else {
            waiter.check();
          }
        }
      } else {
        for (Waiter waiter : now) {
          waiter.deleted(response.getEvents());
        }
      }
    }

    void end() {
      List<Waiter> now;
      synchronized (EtcdQueueWatches.this) {
        if (ended && waiters.isEmpty()) {
          return;
        }
        ended = true;
        forget(this);
        now = List.copyOf(waiters);
        waiters.clear();
      }
      closeWatcher();
      now.forEach(Waiter::ended);
    }
  }
}
