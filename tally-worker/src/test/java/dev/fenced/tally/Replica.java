package dev.fenced.tally;

import dev.fenced.lock.policy.DirectoryPolicySource;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.support.LeaseKeeper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One tally-worker replica inside the test JVM: its own policy source, lock services, lease keeper,
 * database pool and meters, as a separate process would have.
 */
final class Replica implements AutoCloseable {

  static final String REDIS_URL = TestDatabase.env("FENCED_REDIS_URL", "redis://127.0.0.1:16379");

  final LeaseKeeper keeper = new LeaseKeeper();
  final DirectoryPolicySource source;
  final PolicyLocks locks;
  final Pool pool;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final TallyWorker worker;
  private boolean crashed;
  private boolean closed;

  Replica(Vertx vertx, TestDatabase db, Path policies, String name, TallySettings settings) {
    this(vertx, db, policies, settings, db.pool(vertx, 4));
  }

  /**
   * A replica whose membership table is its own: it sees no other worker, so it wants every shard,
   * as two replicas with a broken membership would.
   */
  static Replica alone(
      Vertx vertx, TestDatabase db, Path policies, String name, TallySettings settings) {
    return new Replica(vertx, db, policies, settings, db.poolWithOwnMembership(vertx, 4, name));
  }

  private Replica(Vertx vertx, TestDatabase db, Path policies, TallySettings settings, Pool pool) {
    this.source = new DirectoryPolicySource(policies);
    this.locks =
        new PolicyLocks(
            source,
            new LockServiceFactory(
                vertx, new DirectorySecretResolver(policies.resolve("no-secrets")), null, keeper));
    this.pool = pool;
    this.worker = new TallyWorker(vertx, pool, locks, settings, registry);
  }

  /** Quick timings: folds every 100 ms, beats every 250 ms, expiry 1 s; four shards. */
  static TallySettings settings(String name) {
    return new TallySettings(
        name, Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1), 4);
  }

  /**
   * Writes a Redis policy for {@code tally:*} into a new folder under {@code parent}.
   *
   * @param lease the lease; renewals every quarter of it
   */
  static Path redisPolicy(Path parent, Duration lease) throws Exception {
    return policy(parent, lease, "Redis", "    redis:\n      url: " + REDIS_URL + "\n", "");
  }

  /** A policy without exclusion for {@code tally:*}: every acquire succeeds, as in the None row. */
  static Path nonePolicy(Path parent) throws Exception {
    return policy(parent, Duration.ofSeconds(10), "None", "", "  fencing: Optional\n");
  }

  private static Path policy(
      Path parent, Duration lease, String type, String backendBlock, String more) throws Exception {
    Path dir = Files.createTempDirectory(parent, "policies");
    Files.writeString(
        dir.resolve("tally.yaml"),
        """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata:
          name: tally-locks
        spec:
          lockNames: ["tally:*"]
          backend:
            type: %s
        %s  leaseDuration: %dms
          renewInterval: %dms
          maxWait: 1s
        %s"""
            .formatted(type, backendBlock, lease.toMillis(), lease.toMillis() / 4, more));
    return dir;
  }

  Replica start() {
    worker.start();
    return this;
  }

  /** Dies as a killed process would: nothing released, membership row left to expire. */
  void crash() {
    crashed = true;
    worker.halt();
    locks.close();
  }

  @Override
  public void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (!crashed) {
        worker.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    } finally {
      locks.close();
      source.close();
      keeper.close();
      pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
