package dev.fenced.lock.support;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wake-up signals per lock name, fed by a backend's notifications (Redis pub/sub, PostgreSQL
 * NOTIFY, a Kubernetes watch). A waiter takes the signal <em>before</em> its attempt, so a release
 * that lands between the attempt and the wait is never missed.
 */
public final class Waiters {

  private final ConcurrentHashMap<String, CompletableFuture<Void>> signals =
      new ConcurrentHashMap<>();

  /** The signal the next {@link #wake(String)} of {@code name} completes. */
  public CompletableFuture<Void> signal(String name) {
    return signals.computeIfAbsent(name, n -> new CompletableFuture<>());
  }

  /** Wakes everyone waiting for {@code name}. */
  public void wake(String name) {
    CompletableFuture<Void> signal = signals.remove(name);
    if (signal != null) {
      signal.complete(null);
    }
  }

  /** Wakes every waiter, e.g. after a reconnect when notifications may have been missed. */
  public void wakeAll() {
    for (String name : signals.keySet()) {
      wake(name);
    }
  }
}
