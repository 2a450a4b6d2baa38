package dev.fenced.bench;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fabric8's {@code LeaderElector} with a {@code LeaseLock}, bent into a lock: acquire starts an
 * elector and waits for {@code onStartLeading}; release cancels it with {@code releaseOnCancel}.
 * Comparable only roughly: leader election is built for long holds, so every acquire builds a new
 * elector, and a waiter retries every {@code retryPeriod} (100 ms here) instead of watching. Runs
 * against the Fabric8 mock API server, like the fenced Lease backend.
 */
final class LeaderElectorTarget implements LockTarget {

  private static final Duration RETRY_PERIOD = Duration.ofMillis(100);

  private final MockApiServer apiServer = new MockApiServer();

  /** One identity per thread, as one per process: a new elector of a holder may renew at once. */
  private final ThreadLocal<String> identity =
      ThreadLocal.withInitial(() -> UUID.randomUUID().toString());

  private record Hold(CompletableFuture<?> running) {}

  @Override
  public Object acquire(String name) throws Exception {
    CompletableFuture<Void> leading = new CompletableFuture<>();
    LeaderElector elector =
        apiServer
            .client()
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName(name)
                    .withLock(new LeaseLock("bench-elector", LeaseNames.of(name), identity.get()))
                    .withLeaseDuration(Duration.ofSeconds(10))
                    .withRenewDeadline(Duration.ofSeconds(8))
                    .withRetryPeriod(RETRY_PERIOD)
                    .withReleaseOnCancel(true)
                    .withLeaderCallbacks(
                        new LeaderCallbacks(() -> leading.complete(null), () -> {}, leader -> {}))
                    .build())
            .build();
    CompletableFuture<?> running = elector.start();
    try {
      leading.get(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      running.cancel(true);
      throw e;
    }
    return new Hold(running);
  }

  @Override
  public void release(Object hold) {
    ((Hold) hold).running().cancel(true);
  }

  @Override
  public void close() {
    apiServer.close();
  }

  /** Lease names must be DNS subdomains; the benchmark's names carry colons. */
  static final class LeaseNames {
    private LeaseNames() {}

    static String of(String name) {
      return name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
    }
  }
}
