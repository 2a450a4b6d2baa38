package dev.fenced.bench;

import dev.fenced.lock.postgres.PostgresMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every target the suite measures, by the id JMH's {@code target} parameter and the report use. The
 * ids are listed once here; {@link LockCycles} repeats them in its {@code @Param} because an
 * annotation needs a constant.
 */
public final class Targets {

  /** What a target is, for the report: fenced itself, a peer library, a limit or a baseline. */
  public enum Kind {
    FENCED,
    PEER,
    LIMIT,
    NO_LOCK
  }

  /** One measured thing: its backend, its kind and what it is in a few words. */
  public record Target(String id, String backend, Kind kind, String label, Factory factory) {}

  /** Opens a target; may throw when its server cannot be reached. */
  @FunctionalInterface
  public interface Factory {
    LockTarget open() throws Exception;
  }

  private static final Map<String, Target> ALL = new LinkedHashMap<>();

  static {
    add("fenced-inprocess", "InProcess", Kind.FENCED, "fenced InProcess", FencedTarget::inProcess);
    add("jdk-reentrantlock", "InProcess", Kind.LIMIT, "JDK ReentrantLock", JdkLockTarget::new);

    add("fenced-redis", "Redis", Kind.FENCED, "fenced Redis", FencedTarget::redis);
    add("redisson-rlock", "Redis", Kind.PEER, "Redisson RLock", () -> new RedissonTarget(false));
    add(
        "redisson-fencedlock",
        "Redis",
        Kind.PEER,
        "Redisson RFencedLock",
        () -> new RedissonTarget(true));
    add(
        "limit-redis",
        "Redis",
        Kind.LIMIT,
        "SET NX PX + DEL (2 round trips)",
        () -> new RoundTrips.RedisPair(false));
    add(
        "nolock-redis-incr",
        "Redis",
        Kind.NO_LOCK,
        "INCR (no lock needed)",
        () -> new RoundTrips.RedisPair(true));

    add(
        "fenced-pg-locktable",
        "Postgres",
        Kind.FENCED,
        "fenced Postgres/LockTable",
        () -> FencedTarget.postgres(PostgresMode.LockTable));
    add(
        "fenced-pg-rowlock",
        "Postgres",
        Kind.FENCED,
        "fenced Postgres/RowLock",
        () -> FencedTarget.postgres(PostgresMode.RowLock));
    add(
        "fenced-pg-advisory",
        "Postgres",
        Kind.FENCED,
        "fenced Postgres/Advisory",
        () -> FencedTarget.postgres(PostgresMode.Advisory));
    add(
        "spring-jdbc",
        "Postgres",
        Kind.PEER,
        "Spring Integration JdbcLockRegistry",
        SpringJdbcLockTarget::new);
    add(
        "limit-pg",
        "Postgres",
        Kind.LIMIT,
        "INSERT ON CONFLICT + DELETE (2 round trips)",
        () -> new RoundTrips.PgPair(false));
    add(
        "nolock-pg-update",
        "Postgres",
        Kind.NO_LOCK,
        "UPDATE n = n + 1 (no lock needed)",
        () -> new RoundTrips.PgPair(true));

    add("fenced-etcd", "etcd", Kind.FENCED, "fenced etcd", FencedTarget::etcd);
    add("jetcd-lock", "etcd", Kind.PEER, "jetcd Lock service", JetcdLockTarget::new);
    add(
        "limit-etcd",
        "etcd",
        Kind.LIMIT,
        "txn put-if-absent + delete (2 round trips)",
        RoundTrips.EtcdPair::new);

    add("fenced-zookeeper", "ZooKeeper", Kind.FENCED, "fenced ZooKeeper", FencedTarget::zookeeper);
    add("curator-mutex", "ZooKeeper", Kind.PEER, "Curator InterProcessMutex", CuratorTarget::new);
    add(
        "limit-zookeeper",
        "ZooKeeper",
        Kind.LIMIT,
        "create ephemeral-sequential + delete (2 round trips)",
        RoundTrips.ZooKeeperPair::new);

    add(
        "fenced-lease",
        "KubernetesLease (mock API server)",
        Kind.FENCED,
        "fenced KubernetesLease",
        FencedTarget::kubernetesLease);
    add(
        "fabric8-leaderelector",
        "KubernetesLease (mock API server)",
        Kind.PEER,
        "Fabric8 LeaderElector + LeaseLock",
        LeaderElectorTarget::new);
    add(
        "limit-lease",
        "KubernetesLease (mock API server)",
        Kind.LIMIT,
        "Lease create + delete (2 round trips)",
        RoundTrips.LeasePair::new);
  }

  private Targets() {}

  private static void add(String id, String backend, Kind kind, String label, Factory factory) {
    ALL.put(id, new Target(id, backend, kind, label, factory));
  }

  /** Every target, in report order (grouped by backend). */
  public static List<Target> all() {
    return List.copyOf(ALL.values());
  }

  /** The target with this id, or a clear error listing the known ids. */
  public static Target get(String id) {
    Target target = ALL.get(id);
    if (target == null) {
      throw new IllegalArgumentException(
          "unknown benchmark target '" + id + "'; known: " + String.join(", ", ALL.keySet()));
    }
    return target;
  }

  /** Opens the target with this id. */
  static LockTarget open(String id) throws Exception {
    return get(id).factory().open();
  }
}
