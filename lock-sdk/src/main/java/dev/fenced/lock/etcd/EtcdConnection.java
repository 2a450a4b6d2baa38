package dev.fenced.lock.etcd;

import io.etcd.jetcd.Client;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jetcd client behind a service, replaced by a fresh one when etcd could not be reached.
 *
 * <p>Why: a gRPC channel that lost its server reconnects on an exponential back-off that grows to
 * minutes, and jetcd 0.8.5 offers no way to bound it. After an outage that would keep a client
 * failing long after etcd is back, and keep a lost hold's lease from being revoked. A fresh client
 * connects at once, so after an outage this one is usable again within {@link #REBUILD_EVERY_MS}. A
 * client supplied by the caller is never replaced.
 */
final class EtcdConnection implements AutoCloseable {

  static final long REBUILD_EVERY_MS = 500;

  private static final Logger LOG = LoggerFactory.getLogger(EtcdConnection.class);

  private final Supplier<Client> factory;
  private final long closeOldAfterMs;
  private final AtomicReference<Client> current;
  private final AtomicLong lastRebuild = new AtomicLong(System.nanoTime());
  private final ScheduledExecutorService closer;
  private final Set<Client> retiring = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /** A connection that rebuilds its clients with {@code factory}. */
  static EtcdConnection owned(Supplier<Client> factory, long closeOldAfterMs) {
    return new EtcdConnection(factory, factory.get(), closeOldAfterMs);
  }

  /** A connection over the caller's client: never replaced, never closed here. */
  static EtcdConnection borrowed(Client client) {
    return new EtcdConnection(null, client, 0);
  }

  private EtcdConnection(Supplier<Client> factory, Client first, long closeOldAfterMs) {
    this.factory = factory;
    this.current = new AtomicReference<>(first);
    this.closeOldAfterMs = closeOldAfterMs;
    this.closer =
        factory == null
            ? null
            : Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "fenced-etcd-reconnect");
                  t.setDaemon(true);
                  return t;
                });
  }

  Client client() {
    return current.get();
  }

  /**
   * Notes that a call on {@code used} failed; if etcd was unreachable or the client broken,
   * replaces the client (at most once per {@link #REBUILD_EVERY_MS}). The new client is built on
   * this connection's own thread, not on the caller's (see {@link #opened}). Calls still running on
   * the old client may finish; it is closed a request timeout later, which also ends its watches
   * (their waiters then look again).
   */
  void failed(Client used, Throwable error) {
    if (factory == null || closed || !isUnreachable(error) || current.get() != used) {
      return;
    }
    long now = System.nanoTime();
    long last = lastRebuild.get();
    if (now - last < TimeUnit.MILLISECONDS.toNanos(REBUILD_EVERY_MS)
        || !lastRebuild.compareAndSet(last, now)) {
      return;
    }
    try {
      closer.execute(() -> replace(used, error));
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void replace(Client used, Throwable error) {
    if (closed || current.get() != used) {
      return;
    }
    Client fresh;
    try {
      fresh = opened(factory.get());
    } catch (RuntimeException e) {
      LOG.debug("could not build a new etcd client", e);
      return;
    }
    if (!current.compareAndSet(used, fresh) || closed) {
      fresh.close();
      return;
    }
    LOG.debug("etcd unreachable ({}); reconnecting with a new client", error.toString());
    retiring.add(used);
    try {
      closer.schedule(() -> retire(used), closeOldAfterMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      retire(used);
    }
  }

  /**
   * Makes {@code client} set up its gRPC channel and stubs now, on the calling thread, which is no
   * Vert.x thread. jetcd sets them up lazily, on the thread of the first call. When that thread
   * belonged to the Vert.x instance of the client being replaced (a failed call's callback),
   * closing the old client a moment later left the new one completing nothing more. Measured in the
   * fault matrix's etcd partition cell (docs/faults.md): the isolated replica's votes stopped again
   * a few seconds after the heal, and its new lease held up both lock names until it ran out.
   */
  private static Client opened(Client client) {
    client.getKVClient();
    client.getLeaseClient();
    client.getWatchClient();
    client.getMaintenanceClient();
    return client;
  }

  /**
   * True when the call shows that etcd or this client cannot be used: etcd unreachable ({@code
   * UNAVAILABLE}), or a client that no longer completes its calls: a call that outlived the
   * client-side bound although its gRPC deadline comes first ({@link EtcdCalls#bounded}), or a
   * callback refused by an executor that was shut down.
   */
  private static boolean isUnreachable(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE
          || t instanceof TimeoutException
          || t instanceof RejectedExecutionException) {
        return true;
      }
    }
    return false;
  }

  private void retire(Client old) {
    if (retiring.remove(old)) {
      old.close();
    }
  }

  @Override
  public void close() {
    closed = true;
    if (factory != null) {
      closer.shutdownNow();
      for (Client old : Set.copyOf(retiring)) {
        retire(old);
      }
      current.get().close();
    }
  }
}
