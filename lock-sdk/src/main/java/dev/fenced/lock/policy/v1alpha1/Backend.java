package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The backend of a {@link LockPolicy}: its type and the one settings block that matches it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "redis", "postgres", "etcd", "zookeeper", "kubernetesLease"})
@ValidationRule(
    value =
        "has(self.redis) == (self.type == 'Redis')"
            + " && has(self.postgres) == (self.type == 'Postgres')"
            + " && has(self.etcd) == (self.type == 'Etcd')"
            + " && has(self.zookeeper) == (self.type == 'ZooKeeper')"
            + " && has(self.kubernetesLease) == (self.type == 'KubernetesLease')",
    message =
        "set exactly one backend block, the one matching type (redis, postgres, etcd, zookeeper"
            + " or kubernetesLease); InProcess and None take none")
public class Backend {

  @Required
  @JsonPropertyDescription(
      "Which backend keeps the locks: Redis, Postgres, Etcd, ZooKeeper, KubernetesLease,"
          + " InProcess (one replica only) or None (no lock, to show the race).")
  private BackendType type;

  @JsonPropertyDescription("Settings for type Redis; set only with that type.")
  private RedisBackend redis;

  @JsonPropertyDescription("Settings for type Postgres; set only with that type.")
  private PostgresBackend postgres;

  @JsonPropertyDescription("Settings for type Etcd; set only with that type.")
  private EtcdBackend etcd;

  @JsonPropertyDescription("Settings for type ZooKeeper; set only with that type.")
  private ZooKeeperBackend zookeeper;

  @JsonPropertyDescription("Settings for type KubernetesLease; set only with that type.")
  private KubernetesLeaseBackend kubernetesLease;

  public BackendType getType() {
    return type;
  }

  public void setType(BackendType type) {
    this.type = type;
  }

  public RedisBackend getRedis() {
    return redis;
  }

  public void setRedis(RedisBackend redis) {
    this.redis = redis;
  }

  public PostgresBackend getPostgres() {
    return postgres;
  }

  public void setPostgres(PostgresBackend postgres) {
    this.postgres = postgres;
  }

  public EtcdBackend getEtcd() {
    return etcd;
  }

  public void setEtcd(EtcdBackend etcd) {
    this.etcd = etcd;
  }

  public ZooKeeperBackend getZookeeper() {
    return zookeeper;
  }

  public void setZookeeper(ZooKeeperBackend zookeeper) {
    this.zookeeper = zookeeper;
  }

  public KubernetesLeaseBackend getKubernetesLease() {
    return kubernetesLease;
  }

  public void setKubernetesLease(KubernetesLeaseBackend kubernetesLease) {
    this.kubernetesLease = kubernetesLease;
  }
}
