package dev.fenced.vote;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.redis.RedisLockConfig;
import dev.fenced.lock.redis.RedisLockService;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Points the service at the real PostgreSQL and Redis of {@code scripts/backends.sh} (through the
 * {@code FENCED_*} variables it prints) and gives it a policy folder with one policy per lock
 * family the tests use, told apart by poll id prefix.
 */
public class FencedTestServers implements QuarkusTestResourceLifecycleManager {

  public static final String REDIS_URL =
      env("FENCED_REDIS_URL", "redis://127.0.0.1:" + env("FENCED_REDIS_PORT", "16379"));

  /**
   * A Redis lock client on the same keys as the service's, as another replica has: what it holds,
   * the service waits for. The caller closes it.
   */
  public static RedisLockService otherReplica(Vertx vertx) {
    return new RedisLockService(
        vertx,
        new RedisLockConfig(REDIS_URL, null, LockServiceFactory.REDIS_KEY_PREFIX),
        LockSettings.DEFAULTS,
        null);
  }

  public static final String PG_PORT = env("FENCED_PG_PORT", "15432");

  /** Polls whose id starts with this vote under no lock at all. */
  public static final String NONE = "race-none-";

  public static final String IN_PROCESS = "race-inprocess-";

  /** Redis, with a short maxWait (300ms). */
  public static final String HELD = "held-";

  public static final String ROW_LOCK = "rowlock-";

  /** Redis, maxWait 10s: long enough to queue votes behind a hold the test keeps. */
  public static final String BATCH = "batch-";

  /** Redis, maxWait 10s, lease 1s renewed every 300ms: a hold that lapses soon once not renewed. */
  public static final String SHORT_LEASE = "short-";

  /** Every other poll: Redis, maxWait 2s. */
  public static final String REDIS = "redis-";

  private Path root;

  @Override
  public Map<String, String> start() {
    try {
      root = Files.createTempDirectory("vote-api-test");
      Path policies = Files.createDirectories(root.resolve("policies"));
      Path secrets = Files.createDirectories(root.resolve("secrets/postgres"));
      Files.writeString(secrets.resolve("username"), "fenced\n");
      Files.writeString(secrets.resolve("password"), "fenced\n");
      write(policies, "redis.yaml", "redis-default", "vote:*", redis("2s"), "Required");
      write(policies, "held.yaml", "redis-held", "vote:" + HELD + "*", redis("300ms"), "Required");
      write(policies, "batch.yaml", "redis-batch", "vote:" + BATCH + "*", redis("10s"), "Required");
      write(
          policies,
          "short.yaml",
          "redis-short-lease",
          "vote:" + SHORT_LEASE + "*",
          redis("10s") + "\n  leaseDuration: 1s\n  renewInterval: 300ms",
          "Required");
      write(policies, "none.yaml", "none", "vote:" + NONE + "*", "{ type: None }", "Optional");
      write(
          policies,
          "inprocess.yaml",
          "inprocess",
          "vote:" + IN_PROCESS + "*",
          "{ type: InProcess }",
          "Required");
      write(
          policies,
          "rowlock.yaml",
          "rowlock",
          "vote:" + ROW_LOCK + "*",
          "{ type: Postgres, postgres: { host: 127.0.0.1, port: "
              + PG_PORT
              + ", database: fenced, mode: RowLock, credentialsSecretRef: { name: postgres } } }",
          "Required");
      return Map.of(
          "fenced.policies.dir", policies.toString(),
          "fenced.secrets.dir", root.resolve("secrets").toString(),
          "quarkus.redis.hosts", REDIS_URL);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String redis(String maxWait) {
    return "{ type: Redis, redis: { url: \"" + REDIS_URL + "\" } }\n  maxWait: " + maxWait;
  }

  private static void write(
      Path dir, String file, String name, String pattern, String backend, String fencing)
      throws IOException {
    Files.writeString(
        dir.resolve(file),
        """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata: { name: %s, namespace: voting }
        spec:
          lockNames: ["%s"]
          backend: %s
          fencing: %s
        """
            .formatted(name, pattern, backend, fencing));
  }

  @Override
  public void stop() {
    if (root == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind is harmless
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
