package dev.fenced.lock.policy;

import static dev.fenced.lock.policy.Policies.read;
import static dev.fenced.lock.policy.Policies.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.policy.v1alpha1.EtcdBackend;
import dev.fenced.lock.policy.v1alpha1.Fencing;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import dev.fenced.lock.policy.v1alpha1.SecretKeyRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LockPolicyValidatorTest {

  private static final String REDIS = "redis:\n  url: redis://127.0.0.1:16379";
  private static final String POSTGRES =
      "postgres:\n  host: 127.0.0.1\n  port: 15432\n  database: fenced\n  mode: LockTable\n"
          + "  credentialsSecretRef:\n    name: postgres";
  private static final String ETCD = "etcd:\n  endpoints: [\"http://127.0.0.1:12379\"]";
  private static final String ZOOKEEPER = "zookeeper:\n  connectString: 127.0.0.1:12181";
  private static final String LEASE = "kubernetesLease: {}";

  static LockPolicy redis() {
    return read(yaml("vote-counters", "Redis", REDIS, "vote:*"));
  }

  static LockPolicy postgres() {
    return read(yaml("vote-counters", "Postgres", POSTGRES, "vote:*"));
  }

  static LockPolicy sentinel() {
    return read(
        yaml(
            "vote-counters",
            "Redis",
            "redis:\n  sentinel:\n    masterName: fenced\n    nodes: [\"127.0.0.1:26379\"]",
            "vote:*"));
  }

  static LockPolicy etcd() {
    return read(yaml("vote-counters", "Etcd", ETCD, "vote:*"));
  }

  static LockPolicy zookeeper() {
    return read(yaml("vote-counters", "ZooKeeper", ZOOKEEPER, "vote:*"));
  }

  static LockPolicy lease() {
    return read(yaml("vote-counters", "KubernetesLease", LEASE, "vote:*"));
  }

  static LockPolicy inProcess() {
    return read(yaml("vote-counters", "InProcess", "", "vote:*"));
  }

  private static Arguments rule(
      String rule,
      java.util.function.Supplier<LockPolicy> base,
      Consumer<LockPolicy> breakIt,
      String field,
      String message) {
    return Arguments.of(rule, base, breakIt, field, message);
  }

  static Stream<Arguments> invalidExamples() {
    return Stream.of(
        rule(
            "name is required",
            LockPolicyValidatorTest::redis,
            p -> p.getMetadata().setName(null),
            "metadata.name",
            "must be set"),
        rule(
            "spec is required",
            LockPolicyValidatorTest::redis,
            p -> p.setSpec(null),
            "spec",
            "must be set"),
        rule(
            "at least one lock name pattern",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of()),
            "spec.lockNames",
            "must list at least one glob pattern, such as \"vote:*\""),
        rule(
            "at most 64 patterns",
            LockPolicyValidatorTest::redis,
            p -> {
              List<String> names = new ArrayList<>();
              for (int i = 0; i < 65; i++) {
                names.add("vote:" + i + ":*");
              }
              p.getSpec().setLockNames(names);
            },
            "spec.lockNames",
            "must list at most 64 patterns, has 65"),
        rule(
            "no blank pattern",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of("vote:*", "  ")),
            "spec.lockNames[1]",
            "must not be blank"),
        rule(
            "patterns no longer than lock names may be",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of("v".repeat(513))),
            "spec.lockNames[0]",
            "must be at most 512 characters, was 513"),
        rule(
            "no control characters in patterns",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of("vote:\n*")),
            "spec.lockNames[0]",
            "must not contain control characters (found one at index 5)"),
        rule(
            "no unpaired surrogates in patterns (UTF-8 cannot hold them)",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of("vote:\uD800*")),
            "spec.lockNames[0]",
            "must not contain an unpaired surrogate (found one at index 5); it has no UTF-8 form"),
        rule(
            "no pattern starting with a closing brace",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLockNames(List.of("}vote:*")),
            "spec.lockNames[0]",
            "must not start with '}' (Redis Cluster would hash the keys of the lock apart)"),
        rule(
            "backend is required",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setBackend(null),
            "spec.backend",
            "must be set"),
        rule(
            "backend type is required",
            LockPolicyValidatorTest::inProcess,
            p -> p.getSpec().getBackend().setType(null),
            "spec.backend.type",
            "must be set, one of [Redis, Postgres, Etcd, ZooKeeper, KubernetesLease, InProcess,"
                + " None]"),
        rule(
            "the block matching the type is required",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().getBackend().setRedis(null),
            "spec.backend.redis",
            "must be set for type Redis"),
        rule(
            "no block of another type",
            LockPolicyValidatorTest::redis,
            p -> {
              EtcdBackend etcd = new EtcdBackend();
              etcd.setEndpoints(List.of("http://127.0.0.1:12379"));
              p.getSpec().getBackend().setEtcd(etcd);
            },
            "spec.backend.etcd",
            "must not be set with type Redis; keep only the redis block"),
        rule(
            "InProcess and None take no block",
            LockPolicyValidatorTest::inProcess,
            p ->
                p.getSpec()
                    .getBackend()
                    .setZookeeper(zookeeper().getSpec().getBackend().getZookeeper()),
            "spec.backend.zookeeper",
            "must not be set: type InProcess takes no settings block"),
        rule(
            "redis url is required",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().getBackend().getRedis().setUrl(null),
            "spec.backend.redis.url",
            "must be set, such as redis://redis:6379 (or set sentinel instead)"),
        rule(
            "redis url scheme",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().getBackend().getRedis().setUrl("http://127.0.0.1:16379"),
            "spec.backend.redis.url",
            "must start with redis:// or rediss://"),
        rule(
            "redis url names a host",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().getBackend().getRedis().setUrl("redis:///0"),
            "spec.backend.redis.url",
            "must name a host, such as redis://redis:6379"),
        rule(
            "redis takes url or sentinel, not both",
            LockPolicyValidatorTest::sentinel,
            p -> p.getSpec().getBackend().getRedis().setUrl("redis://127.0.0.1:16379"),
            "spec.backend.redis.sentinel",
            "must not be set together with url: set url for one server, sentinel for the primary"
                + " its Sentinels name"),
        rule(
            "sentinel names its master set",
            LockPolicyValidatorTest::sentinel,
            p -> p.getSpec().getBackend().getRedis().getSentinel().setMasterName(" "),
            "spec.backend.redis.sentinel.masterName",
            "must be set, such as mymaster"),
        rule(
            "sentinel master set name has no whitespace",
            LockPolicyValidatorTest::sentinel,
            p -> p.getSpec().getBackend().getRedis().getSentinel().setMasterName("my master"),
            "spec.backend.redis.sentinel.masterName",
            "must not contain whitespace or control characters"),
        rule(
            "sentinel lists at least one node",
            LockPolicyValidatorTest::sentinel,
            p -> p.getSpec().getBackend().getRedis().getSentinel().setNodes(List.of()),
            "spec.backend.redis.sentinel.nodes",
            "must list at least one Sentinel, such as redis-sentinel:26379"),
        rule(
            "sentinel nodes are host:port",
            LockPolicyValidatorTest::sentinel,
            p ->
                p.getSpec()
                    .getBackend()
                    .getRedis()
                    .getSentinel()
                    .setNodes(List.of("sentinel-0:26379", "redis://sentinel-1:26379")),
            "spec.backend.redis.sentinel.nodes[1]",
            "must be host:port with a port in 1..65535, such as redis-sentinel:26379, was"
                + " redis://sentinel-1:26379"),
        rule(
            "sentinel node ports are in range",
            LockPolicyValidatorTest::sentinel,
            p -> p.getSpec().getBackend().getRedis().getSentinel().setNodes(List.of("s:70000")),
            "spec.backend.redis.sentinel.nodes[0]",
            "must be host:port with a port in 1..65535, such as redis-sentinel:26379, was s:70000"),
        rule(
            "redis url carries no password (and the message does not echo it)",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().getBackend().getRedis().setUrl("redis://:s3cret@127.0.0.1:16379"),
            "spec.backend.redis.url",
            "must not carry a password; use passwordSecretRef"),
        rule(
            "redis password secret names its Secret",
            LockPolicyValidatorTest::redis,
            p ->
                p.getSpec()
                    .getBackend()
                    .getRedis()
                    .setPasswordSecretRef(new SecretKeyRef(null, "password")),
            "spec.backend.redis.passwordSecretRef.name",
            "must be set"),
        rule(
            "redis password secret names its key",
            LockPolicyValidatorTest::redis,
            p ->
                p.getSpec()
                    .getBackend()
                    .getRedis()
                    .setPasswordSecretRef(new SecretKeyRef("redis", "")),
            "spec.backend.redis.passwordSecretRef.key",
            "must be set"),
        rule(
            "postgres host is required without jdbcUrl",
            LockPolicyValidatorTest::postgres,
            p -> p.getSpec().getBackend().getPostgres().setHost(null),
            "spec.backend.postgres.host",
            "must be set (or give jdbcUrl instead)"),
        rule(
            "postgres database is required without jdbcUrl",
            LockPolicyValidatorTest::postgres,
            p -> p.getSpec().getBackend().getPostgres().setDatabase(" "),
            "spec.backend.postgres.database",
            "must be set (or give jdbcUrl instead)"),
        rule(
            "postgres jdbcUrl or host/port/database, not both",
            LockPolicyValidatorTest::postgres,
            p ->
                p.getSpec()
                    .getBackend()
                    .getPostgres()
                    .setJdbcUrl("jdbc:postgresql://127.0.0.1:15432/fenced"),
            "spec.backend.postgres.jdbcUrl",
            "set either jdbcUrl or host/port/database, not both"),
        rule(
            "postgres jdbcUrl scheme",
            LockPolicyValidatorTest::postgres,
            p -> {
              var pg = p.getSpec().getBackend().getPostgres();
              pg.setHost(null);
              pg.setPort(null);
              pg.setDatabase(null);
              pg.setJdbcUrl("jdbc:mysql://127.0.0.1/fenced");
            },
            "spec.backend.postgres.jdbcUrl",
            "must start with jdbc:postgresql://, such as jdbc:postgresql://postgres:5432/fenced"),
        rule(
            "postgres jdbcUrl carries no password",
            LockPolicyValidatorTest::postgres,
            p -> {
              var pg = p.getSpec().getBackend().getPostgres();
              pg.setHost(null);
              pg.setPort(null);
              pg.setDatabase(null);
              pg.setJdbcUrl("jdbc:postgresql://127.0.0.1:15432/fenced?user=fenced&password=s3cret");
            },
            "spec.backend.postgres.jdbcUrl",
            "must not carry the password; use credentialsSecretRef"),
        rule(
            "postgres port range",
            LockPolicyValidatorTest::postgres,
            p -> p.getSpec().getBackend().getPostgres().setPort(70000),
            "spec.backend.postgres.port",
            "must be within 1..65535, was 70000"),
        rule(
            "postgres mode is required",
            LockPolicyValidatorTest::postgres,
            p -> p.getSpec().getBackend().getPostgres().setMode(null),
            "spec.backend.postgres.mode",
            "must be set: LockTable, RowLock or Advisory"),
        rule(
            "postgres credentials name their Secret",
            LockPolicyValidatorTest::postgres,
            p -> p.getSpec().getBackend().getPostgres().getCredentialsSecretRef().setName(null),
            "spec.backend.postgres.credentialsSecretRef.name",
            "must be set"),
        rule(
            "etcd needs an endpoint",
            LockPolicyValidatorTest::etcd,
            p -> p.getSpec().getBackend().getEtcd().setEndpoints(List.of()),
            "spec.backend.etcd.endpoints",
            "must list at least one endpoint, such as http://etcd:2379"),
        rule(
            "etcd endpoints are URLs",
            LockPolicyValidatorTest::etcd,
            p -> p.getSpec().getBackend().getEtcd().setEndpoints(List.of("127.0.0.1:12379")),
            "spec.backend.etcd.endpoints[0]",
            "must be an http:// or https:// URL, such as http://etcd:2379, was 127.0.0.1:12379"),
        rule(
            "etcd key prefix is not blank",
            LockPolicyValidatorTest::etcd,
            p -> p.getSpec().getBackend().getEtcd().setKeyPrefix(""),
            "spec.backend.etcd.keyPrefix",
            "must be set"),
        rule(
            "zookeeper connect string is required",
            LockPolicyValidatorTest::zookeeper,
            p -> p.getSpec().getBackend().getZookeeper().setConnectString(null),
            "spec.backend.zookeeper.connectString",
            "must be set, such as zookeeper:2181"),
        rule(
            "zookeeper base path is absolute",
            LockPolicyValidatorTest::zookeeper,
            p -> p.getSpec().getBackend().getZookeeper().setBasePath("fenced/locks"),
            "spec.backend.zookeeper.basePath",
            "must be an absolute node path without a trailing slash, such as /fenced/locks, was"
                + " fenced/locks"),
        rule(
            "lease namespace needed when the policy has none",
            LockPolicyValidatorTest::lease,
            p -> p.getMetadata().setNamespace(null),
            "spec.backend.kubernetesLease.namespace",
            "must be set when the LockPolicy has no namespace"),
        rule(
            "lease namespace is a namespace name",
            LockPolicyValidatorTest::lease,
            p -> p.getSpec().getBackend().getKubernetesLease().setNamespace("Voting_1"),
            "spec.backend.kubernetesLease.namespace",
            "must be a namespace name (lower-case letters, digits and '-', at most 63), was"
                + " Voting_1"),
        rule(
            "durations parse",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setMaxWait("2 seconds"),
            "spec.maxWait",
            "\"2 seconds\" is not a duration: unknown unit \" seconds\" (use ns, us, ms, s, m or h;"
                + " no days); write it like 10s, 500ms or 1m30s"),
        rule(
            "lease is positive",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setLeaseDuration("0s"),
            "spec.leaseDuration",
            "must be positive, was 0s"),
        rule(
            "renew interval is positive",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setRenewInterval("-1s"),
            "spec.renewInterval",
            "must be positive, was -1s"),
        rule(
            "lease is no shorter than 20ms",
            LockPolicyValidatorTest::redis,
            p -> {
              p.getSpec().setLeaseDuration("15ms");
              p.getSpec().setRenewInterval("10ms");
            },
            "spec.leaseDuration",
            "must be at least 20ms, was 15ms"),
        rule(
            "renew interval is no shorter than 10ms",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setRenewInterval("1ns"),
            "spec.renewInterval",
            "must be at least 10ms, was 1ns"),
        rule(
            "max wait is not negative",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setMaxWait("-5ms"),
            "spec.maxWait",
            "must not be negative, was -5ms"),
        rule(
            "renew interval shorter than the lease",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setRenewInterval("10s"),
            "spec.renewInterval",
            "must be shorter than spec.leaseDuration (10s), was 10s"),
        rule(
            "fencing is required to be set",
            LockPolicyValidatorTest::redis,
            p -> p.getSpec().setFencing(null),
            "spec.fencing",
            "must be set: Required or Optional"),
        rule(
            "backend None needs fencing Optional",
            () -> {
              LockPolicy none = read(yaml("race", "None", "", "vote:*"));
              none.getSpec().setFencing(Fencing.Optional);
              return none;
            },
            p -> p.getSpec().setFencing(Fencing.Required),
            "spec.fencing",
            "must be Optional with backend None, which issues no fencing tokens; was Required"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void eachRuleNamesItsFieldAndSaysWhatIsWrong(
      String rule,
      java.util.function.Supplier<LockPolicy> base,
      Consumer<LockPolicy> breakIt,
      String field,
      String message) {
    LockPolicy policy = base.get();
    assertThat(LockPolicyValidator.validate(policy)).as("the valid base of: " + rule).isEmpty();
    breakIt.accept(policy);
    assertThat(LockPolicyValidator.validate(policy)).containsExactly(new Violation(field, message));
  }

  @Test
  void everyBackendTypeHasAValidShape() {
    for (LockPolicy p :
        List.of(redis(), sentinel(), postgres(), etcd(), zookeeper(), lease(), inProcess())) {
      assertThat(LockPolicyValidator.validate(p)).isEmpty();
    }
    LockPolicy none = read(yaml("race", "None", "", "vote:*"));
    none.getSpec().setFencing(Fencing.Optional);
    assertThat(LockPolicyValidator.validate(none)).isEmpty();
  }

  @Test
  void aJdbcUrlReplacesHostPortAndDatabase() {
    LockPolicy p = postgres();
    var pg = p.getSpec().getBackend().getPostgres();
    pg.setHost(null);
    pg.setPort(null);
    pg.setDatabase(null);
    pg.setJdbcUrl("jdbc:postgresql://127.0.0.1:15432/fenced");
    assertThat(LockPolicyValidator.validate(p)).isEmpty();
  }

  @Test
  void everyViolationIsReportedAtOnce() {
    LockPolicy p = redis();
    p.getSpec().setLockNames(Collections.singletonList(""));
    p.getSpec().getBackend().getRedis().setUrl(null);
    p.getSpec().setRenewInterval("20s");
    assertThat(LockPolicyValidator.validate(p))
        .extracting(Violation::field)
        .containsExactly("spec.lockNames[0]", "spec.backend.redis.url", "spec.renewInterval");
  }

  @Test
  void defaultsAreTheDesignsDefaults() {
    LockPolicy p = redis();
    assertThat(LockPolicyValidator.toSettings(p))
        .isEqualTo(
            new LockSettings(
                Duration.ofSeconds(10),
                Duration.ofSeconds(3),
                Duration.ofSeconds(2),
                LockSettings.Fencing.REQUIRED,
                0));
  }

  @Test
  void settingsCarryTheTimingFencingAndTheEpochFromStatus() {
    LockPolicy p = redis();
    p.getSpec().setLeaseDuration("1m30s");
    p.getSpec().setRenewInterval("500ms");
    p.getSpec().setMaxWait("0");
    p.getSpec().setFencing(Fencing.Optional);
    LockPolicyStatus status = new LockPolicyStatus();
    status.setEpoch(7L);
    p.setStatus(status);
    assertThat(LockPolicyValidator.toSettings(p))
        .isEqualTo(
            new LockSettings(
                Duration.ofSeconds(90),
                Duration.ofMillis(500),
                Duration.ZERO,
                LockSettings.Fencing.OPTIONAL,
                7));
    assertThat(LockPolicyValidator.toSettings(p, 9).epoch()).isEqualTo(9);
  }

  @Test
  void anInvalidPolicyHasNoSettings() {
    LockPolicy p = redis();
    p.getSpec().setRenewInterval("10s");
    assertThatThrownBy(() -> LockPolicyValidator.toSettings(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "LockPolicy voting/vote-counters is invalid: spec.renewInterval: must be shorter than"
                + " spec.leaseDuration (10s), was 10s");
  }
}
