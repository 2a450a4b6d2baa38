package dev.fenced.lock.policy;

import dev.fenced.lock.LockNames;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.policy.v1alpha1.Backend;
import dev.fenced.lock.policy.v1alpha1.BackendType;
import dev.fenced.lock.policy.v1alpha1.CredentialsSecretRef;
import dev.fenced.lock.policy.v1alpha1.EtcdBackend;
import dev.fenced.lock.policy.v1alpha1.Fencing;
import dev.fenced.lock.policy.v1alpha1.KubernetesLeaseBackend;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicySpec;
import dev.fenced.lock.policy.v1alpha1.PostgresBackend;
import dev.fenced.lock.policy.v1alpha1.RedisBackend;
import dev.fenced.lock.policy.v1alpha1.RedisSentinel;
import dev.fenced.lock.policy.v1alpha1.SecretKeyRef;
import dev.fenced.lock.policy.v1alpha1.ZooKeeperBackend;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Checks a LockPolicy in code. The CRD schema carries the same rules where the API server can
 * enforce them, but an API server may not (and the mock server used in tests enforces none), and
 * policies read from files never meet an API server: this is the check that always runs.
 *
 * <p>{@link #validate} reports every violation at once, each naming its field path, so one pass of
 * fixes is enough.
 */
public final class LockPolicyValidator {

  /** Most lock-name patterns one policy may list; the CRD schema says the same. */
  public static final int MAX_LOCK_NAMES = 64;

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern JDBC_USERINFO_PASSWORD =
      Pattern.compile("^jdbc:postgresql://[^/?#]*:[^/?#]*@.*");
  private static final Pattern JDBC_PASSWORD_PARAMETER = Pattern.compile("(?i).*[?&]password=.*");

  private LockPolicyValidator() {}

  /**
   * Every rule the policy breaks; empty when it is valid.
   *
   * @throws NullPointerException if {@code policy} is null
   */
  public static List<Violation> validate(LockPolicy policy) {
    List<Violation> out = new ArrayList<>();
    if (policy.getMetadata() == null || isBlank(policy.getMetadata().getName())) {
      out.add(new Violation("metadata.name", "must be set"));
    }
    LockPolicySpec spec = policy.getSpec();
    if (spec == null) {
      out.add(new Violation("spec", "must be set"));
      return out;
    }
    checkLockNames(spec.getLockNames(), out);
    checkBackend(policy, spec.getBackend(), out);
    checkTiming(spec, out);
    checkFencing(spec, out);
    return out;
  }

  /**
   * The lock settings a valid policy stands for, with the epoch from its status (0 when it has
   * none).
   *
   * @throws IllegalArgumentException listing every violation when the policy is invalid
   */
  public static LockSettings toSettings(LockPolicy policy) {
    Long epoch = policy.getStatus() == null ? null : policy.getStatus().getEpoch();
    return toSettings(policy, epoch == null ? 0 : epoch);
  }

  /**
   * The lock settings a valid policy stands for, with the given epoch.
   *
   * @throws IllegalArgumentException listing every violation when the policy is invalid, or when
   *     the epoch is out of range
   */
  public static LockSettings toSettings(LockPolicy policy, long epoch) {
    List<Violation> violations = validate(policy);
    if (!violations.isEmpty()) {
      throw new IllegalArgumentException(describe(policy, violations));
    }
    LockPolicySpec spec = policy.getSpec();
    return new LockSettings(
        Durations.parse("spec.leaseDuration", spec.getLeaseDuration()),
        Durations.parse("spec.renewInterval", spec.getRenewInterval()),
        Durations.parse("spec.maxWait", spec.getMaxWait()),
        spec.getFencing() == Fencing.Optional
            ? LockSettings.Fencing.OPTIONAL
            : LockSettings.Fencing.REQUIRED,
        epoch);
  }

  /** One line naming the policy and all its violations, for logs and exceptions. */
  public static String describe(LockPolicy policy, List<Violation> violations) {
    return "LockPolicy "
        + PolicyRef.of(policy)
        + " is invalid: "
        + violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
  }

  private static void checkLockNames(List<String> names, List<Violation> out) {
    if (names == null || names.isEmpty()) {
      out.add(
          new Violation(
              "spec.lockNames", "must list at least one glob pattern, such as \"vote:*\""));
      return;
    }
    if (names.size() > MAX_LOCK_NAMES) {
      out.add(
          new Violation(
              "spec.lockNames",
              "must list at most " + MAX_LOCK_NAMES + " patterns, has " + names.size()));
    }
    for (int i = 0; i < names.size(); i++) {
      String field = "spec.lockNames[" + i + "]";
      String pattern = names.get(i);
      // A pattern is a lock name with wildcards: the characters a name may hold are the rule.
      String problem = LockNames.problem(pattern);
      if (problem != null) {
        out.add(new Violation(field, problem));
      }
    }
  }

  private static void checkBackend(LockPolicy policy, Backend backend, List<Violation> out) {
    if (backend == null) {
      out.add(new Violation("spec.backend", "must be set"));
      return;
    }
    BackendType type = backend.getType();
    if (type == null) {
      out.add(
          new Violation(
              "spec.backend.type", "must be set, one of " + Arrays.toString(BackendType.values())));
    }
    String wanted = type == null ? null : blockOf(type);
    for (BackendType other : BackendType.values()) {
      String block = blockOf(other);
      if (block == null || block.equals(wanted) || blockValue(backend, other) == null) {
        continue;
      }
      if (type != null) {
        out.add(
            new Violation(
                "spec.backend." + block,
                wanted == null
                    ? "must not be set: type " + type + " takes no settings block"
                    : "must not be set with type "
                        + type
                        + "; keep only the "
                        + wanted
                        + " block"));
      }
    }
    if (type == null || wanted == null) {
      return;
    }
    if (blockValue(backend, type) == null) {
      out.add(new Violation("spec.backend." + wanted, "must be set for type " + type));
      return;
    }
    // A switch expression, so the compiler insists on every type.
    Runnable checkBlock =
        switch (type) {
          case Redis -> () -> checkRedis(backend.getRedis(), out);
          case Postgres -> () -> checkPostgres(backend.getPostgres(), out);
          case Etcd -> () -> checkEtcd(backend.getEtcd(), out);
          case ZooKeeper -> () -> checkZooKeeper(backend.getZookeeper(), out);
          case KubernetesLease ->
              () -> checkKubernetesLease(policy, backend.getKubernetesLease(), out);
          case InProcess, None -> () -> {};
        };
    checkBlock.run();
  }

  /**
   * The settings block {@code type} takes, as the YAML spells it, or null for the types that take
   * none. A switch expression, so a new backend type does not compile until it is placed here.
   */
  private static String blockOf(BackendType type) {
    return switch (type) {
      case Redis -> "redis";
      case Postgres -> "postgres";
      case Etcd -> "etcd";
      case ZooKeeper -> "zookeeper";
      case KubernetesLease -> "kubernetesLease";
      case InProcess, None -> null;
    };
  }

  /** The settings block of {@code type} in {@code backend}, or null when absent or none exists. */
  private static Object blockValue(Backend backend, BackendType type) {
    return switch (type) {
      case Redis -> backend.getRedis();
      case Postgres -> backend.getPostgres();
      case Etcd -> backend.getEtcd();
      case ZooKeeper -> backend.getZookeeper();
      case KubernetesLease -> backend.getKubernetesLease();
      case InProcess, None -> null;
    };
  }

  private static void checkRedis(RedisBackend redis, List<Violation> out) {
    if (redis == null) {
      return;
    }
    String field = "spec.backend.redis.url";
    String url = redis.getUrl();
    if (redis.getSentinel() != null) {
      if (url != null) {
        out.add(
            new Violation(
                "spec.backend.redis.sentinel",
                "must not be set together with url: set url for one server, sentinel for the"
                    + " primary its Sentinels name"));
      }
      checkSentinel(redis.getSentinel(), out);
    } else if (isBlank(url)) {
      out.add(
          new Violation(
              field, "must be set, such as redis://redis:6379 (or set sentinel instead)"));
    } else if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
      out.add(new Violation(field, "must start with redis:// or rediss://"));
    } else {
      URI uri;
      try {
        uri = new URI(url);
      } catch (Exception e) {
        uri = null;
        out.add(new Violation(field, "is not a valid URL"));
      }
      if (uri != null && uri.getRawUserInfo() != null && uri.getRawUserInfo().contains(":")) {
        // The value is a secret: say where it is, never what it is.
        out.add(new Violation(field, "must not carry a password; use passwordSecretRef"));
      } else if (uri != null && isBlank(uri.getHost())) {
        out.add(new Violation(field, "must name a host, such as redis://redis:6379"));
      }
    }
    SecretKeyRef ref = redis.getPasswordSecretRef();
    if (ref != null) {
      requireSet("spec.backend.redis.passwordSecretRef.name", ref.getName(), out);
      requireSet("spec.backend.redis.passwordSecretRef.key", ref.getKey(), out);
    }
  }

  private static void checkSentinel(RedisSentinel sentinel, List<Violation> out) {
    String prefix = "spec.backend.redis.sentinel.";
    String master = sentinel.getMasterName();
    if (isBlank(master)) {
      out.add(new Violation(prefix + "masterName", "must be set, such as mymaster"));
    } else if (master
        .chars()
        .anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
      out.add(
          new Violation(
              prefix + "masterName", "must not contain whitespace or control characters"));
    }
    List<String> nodes = sentinel.getNodes();
    if (nodes == null || nodes.isEmpty()) {
      out.add(
          new Violation(
              prefix + "nodes", "must list at least one Sentinel, such as redis-sentinel:26379"));
      return;
    }
    for (int i = 0; i < nodes.size(); i++) {
      String node = nodes.get(i);
      if (!isHostPort(node)) {
        out.add(
            new Violation(
                prefix + "nodes[" + i + "]",
                "must be host:port with a port in 1..65535, such as redis-sentinel:26379, was "
                    + node));
      }
    }
  }

  /** {@code host:port}, the host a name or an address ({@code [v6]} in brackets). */
  static boolean isHostPort(String node) {
    if (node == null || node.isBlank() || node.chars().anyMatch(Character::isWhitespace)) {
      return false;
    }
    int colon = node.lastIndexOf(':');
    if (colon <= 0 || colon == node.length() - 1 || node.contains("/") || node.contains("@")) {
      return false;
    }
    String host = node.substring(0, colon);
    if (host.contains(":") && !(host.startsWith("[") && host.endsWith("]"))) {
      return false;
    }
    try {
      int port = Integer.parseInt(node.substring(colon + 1));
      return port >= 1 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void checkPostgres(PostgresBackend pg, List<Violation> out) {
    if (pg == null) {
      return;
    }
    String prefix = "spec.backend.postgres.";
    String jdbcUrl = pg.getJdbcUrl();
    if (jdbcUrl != null) {
      if (pg.getHost() != null || pg.getPort() != null || pg.getDatabase() != null) {
        out.add(
            new Violation(
                prefix + "jdbcUrl", "set either jdbcUrl or host/port/database, not both"));
      }
      if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
        out.add(
            new Violation(
                prefix + "jdbcUrl",
                "must start with jdbc:postgresql://, such as"
                    + " jdbc:postgresql://postgres:5432/fenced"));
      } else if (JDBC_USERINFO_PASSWORD.matcher(jdbcUrl).matches()
          || JDBC_PASSWORD_PARAMETER.matcher(jdbcUrl).matches()) {
        out.add(
            new Violation(
                prefix + "jdbcUrl", "must not carry the password; use credentialsSecretRef"));
      }
    } else {
      if (isBlank(pg.getHost())) {
        out.add(new Violation(prefix + "host", "must be set (or give jdbcUrl instead)"));
      }
      if (isBlank(pg.getDatabase())) {
        out.add(new Violation(prefix + "database", "must be set (or give jdbcUrl instead)"));
      }
    }
    if (pg.getPort() != null && (pg.getPort() < 1 || pg.getPort() > 65535)) {
      out.add(new Violation(prefix + "port", "must be within 1..65535, was " + pg.getPort()));
    }
    if (pg.getMode() == null) {
      out.add(new Violation(prefix + "mode", "must be set: LockTable, RowLock or Advisory"));
    }
    CredentialsSecretRef creds = pg.getCredentialsSecretRef();
    if (creds != null) {
      requireSet(prefix + "credentialsSecretRef.name", creds.getName(), out);
      requireSet(prefix + "credentialsSecretRef.usernameKey", creds.getUsernameKey(), out);
      requireSet(prefix + "credentialsSecretRef.passwordKey", creds.getPasswordKey(), out);
    }
  }

  private static void checkEtcd(EtcdBackend etcd, List<Violation> out) {
    if (etcd == null) {
      return;
    }
    List<String> endpoints = etcd.getEndpoints();
    if (endpoints == null || endpoints.isEmpty()) {
      out.add(
          new Violation(
              "spec.backend.etcd.endpoints",
              "must list at least one endpoint, such as http://etcd:2379"));
    } else {
      for (int i = 0; i < endpoints.size(); i++) {
        String endpoint = endpoints.get(i);
        if (endpoint == null
            || !(endpoint.startsWith("http://") || endpoint.startsWith("https://"))) {
          out.add(
              new Violation(
                  "spec.backend.etcd.endpoints[" + i + "]",
                  "must be an http:// or https:// URL, such as http://etcd:2379, was " + endpoint));
        }
      }
    }
    requireSet("spec.backend.etcd.keyPrefix", etcd.getKeyPrefix(), out);
  }

  private static void checkZooKeeper(ZooKeeperBackend zk, List<Violation> out) {
    if (zk == null) {
      return;
    }
    if (isBlank(zk.getConnectString())) {
      out.add(
          new Violation(
              "spec.backend.zookeeper.connectString", "must be set, such as zookeeper:2181"));
    }
    String basePath = zk.getBasePath();
    if (basePath == null
        || !basePath.startsWith("/")
        || (basePath.length() > 1 && basePath.endsWith("/"))) {
      out.add(
          new Violation(
              "spec.backend.zookeeper.basePath",
              "must be an absolute node path without a trailing slash, such as /fenced/locks,"
                  + " was "
                  + basePath));
    }
  }

  private static void checkKubernetesLease(
      LockPolicy policy, KubernetesLeaseBackend lease, List<Violation> out) {
    if (lease == null) {
      return;
    }
    String field = "spec.backend.kubernetesLease.namespace";
    String namespace = lease.getNamespace();
    if (namespace == null) {
      if (policy.getMetadata() == null || isBlank(policy.getMetadata().getNamespace())) {
        out.add(new Violation(field, "must be set when the LockPolicy has no namespace"));
      }
    } else if (!DNS_LABEL.matcher(namespace).matches()) {
      out.add(
          new Violation(
              field,
              "must be a namespace name (lower-case letters, digits and '-', at most 63), was "
                  + namespace));
    }
  }

  private static void checkTiming(LockPolicySpec spec, List<Violation> out) {
    Duration lease = duration("spec.leaseDuration", spec.getLeaseDuration(), out);
    Duration renew = duration("spec.renewInterval", spec.getRenewInterval(), out);
    Duration maxWait = duration("spec.maxWait", spec.getMaxWait(), out);
    lease =
        atLeast(
            "spec.leaseDuration",
            lease,
            spec.getLeaseDuration(),
            LockSettings.MIN_LEASE_DURATION,
            out);
    renew =
        atLeast(
            "spec.renewInterval",
            renew,
            spec.getRenewInterval(),
            LockSettings.MIN_RENEW_INTERVAL,
            out);
    if (maxWait != null && maxWait.isNegative()) {
      out.add(new Violation("spec.maxWait", "must not be negative, was " + spec.getMaxWait()));
    }
    if (lease != null && renew != null && renew.compareTo(lease) >= 0) {
      out.add(
          new Violation(
              "spec.renewInterval",
              "must be shorter than spec.leaseDuration ("
                  + spec.getLeaseDuration()
                  + "), was "
                  + spec.getRenewInterval()));
    }
  }

  /** The duration when it is at least {@code minimum}; null (and a violation) when not. */
  private static Duration atLeast(
      String field, Duration value, String text, Duration minimum, List<Violation> out) {
    if (value == null) {
      return null;
    }
    if (value.isZero() || value.isNegative()) {
      out.add(new Violation(field, "must be positive, was " + text));
      return null;
    }
    if (value.compareTo(minimum) < 0) {
      out.add(new Violation(field, "must be at least " + minimum.toMillis() + "ms, was " + text));
      return null;
    }
    return value;
  }

  private static void checkFencing(LockPolicySpec spec, List<Violation> out) {
    if (spec.getFencing() == null) {
      out.add(new Violation("spec.fencing", "must be set: Required or Optional"));
      return;
    }
    if (spec.getBackend() != null
        && spec.getBackend().getType() == BackendType.None
        && spec.getFencing() != Fencing.Optional) {
      out.add(
          new Violation(
              "spec.fencing",
              "must be Optional with backend None, which issues no fencing tokens; was "
                  + spec.getFencing()));
    }
  }

  private static Duration duration(String field, String text, List<Violation> out) {
    try {
      return Durations.parse(field, text);
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      String prefix = field + ": ";
      out.add(
          new Violation(
              field, message.startsWith(prefix) ? message.substring(prefix.length()) : message));
      return null;
    }
  }

  private static void requireSet(String field, String value, List<Violation> out) {
    if (isBlank(value)) {
      out.add(new Violation(field, "must be set"));
    }
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
