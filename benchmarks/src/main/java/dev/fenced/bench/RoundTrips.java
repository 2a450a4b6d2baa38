package dev.fenced.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;

/**
 * What a backend can do at most: the raw round trips one lock cycle needs, on the same client
 * library the fenced backend uses, with no waiting, no token, no renewal and no mutual exclusion (a
 * contended run sends the same pair on one key; a refused write counts like a granted one). And the
 * "no lock needed" baselines: one atomic increment on the server.
 */
final class RoundTrips {

  private RoundTrips() {}

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /**
   * Redis through the same Vert.x client fenced uses (pool of 8, TCP_NODELAY, like {@code
   * RedisLockService}): {@code SET k v NX PX 10000} + {@code DEL k}, or one {@code INCR}.
   */
  static final class RedisPair implements LockTarget {
    private final Vertx vertx = Vertx.vertx();
    private final Redis client;
    private final boolean increment;

    RedisPair(boolean increment) {
      this.increment = increment;
      client =
          Redis.createClient(
              vertx,
              new RedisOptions()
                  .setConnectionString(Servers.redisUrl())
                  .setMaxPoolSize(8)
                  .setMaxPoolWaiting(1024)
                  .setNetClientOptions(new NetClientOptions().setTcpNoDelay(true)));
    }

    @Override
    public Object acquire(String name) throws Exception {
      String key = "limit:bench:" + name;
      if (increment) {
        return await(client.send(Request.cmd(Command.INCR).arg(key)));
      }
      await(
          client.send(
              Request.cmd(Command.SET).arg(key).arg("owner").arg("NX").arg("PX").arg(10_000)));
      return key;
    }

    @Override
    public void release(Object hold) throws Exception {
      if (!increment) {
        await(client.send(Request.cmd(Command.DEL).arg((String) hold)));
      }
    }

    @Override
    public void close() {
      client.close();
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  /**
   * PostgreSQL through the same Vert.x client fenced uses (pool of 16): the two autocommitted
   * statements of a lock-table cycle ({@code INSERT ... ON CONFLICT DO NOTHING} + {@code DELETE}),
   * or one {@code UPDATE bench_counters SET n = n + 1}.
   */
  static final class PgPair implements LockTarget {
    private final Vertx vertx = Vertx.vertx();
    private final Pool pool;
    private final boolean increment;

    PgPair(boolean increment) throws Exception {
      this.increment = increment;
      pool =
          PgBuilder.pool()
              .with(new PoolOptions().setMaxSize(16))
              .connectingTo(
                  new PgConnectOptions()
                      .setHost(Servers.pgHost())
                      .setPort(Servers.pgPort())
                      .setDatabase(Servers.pgDatabase())
                      .setUser(Servers.pgUser())
                      .setPassword(Servers.pgPassword()))
              .using(vertx)
              .build();
      await(
          pool.query(
                  "CREATE TABLE IF NOT EXISTS bench_locks (resource text PRIMARY KEY, owner text)")
              .execute());
      await(
          pool.query(
                  "CREATE TABLE IF NOT EXISTS bench_counters (id text PRIMARY KEY, n bigint NOT"
                      + " NULL)")
              .execute());
    }

    @Override
    public Object acquire(String name) throws Exception {
      if (increment) {
        return await(
            pool.preparedQuery(
                    "INSERT INTO bench_counters (id, n) VALUES ($1, 1)"
                        + " ON CONFLICT (id) DO UPDATE SET n = bench_counters.n + 1")
                .execute(Tuple.of(name)));
      }
      await(
          pool.preparedQuery(
                  "INSERT INTO bench_locks (resource, owner) VALUES ($1, $2) ON CONFLICT DO"
                      + " NOTHING")
              .execute(Tuple.of(name, "owner")));
      return name;
    }

    @Override
    public void release(Object hold) throws Exception {
      if (!increment) {
        await(
            pool.preparedQuery("DELETE FROM bench_locks WHERE resource = $1 AND owner = $2")
                .execute(Tuple.of(hold, "owner")));
      }
    }

    @Override
    public void close() {
      pool.close();
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  /** etcd through jetcd, as fenced: a transaction "put if absent" + a delete. */
  static final class EtcdPair implements LockTarget {
    private final Client client =
        Client.builder().endpoints(Servers.etcdEndpoints().split(",")).build();

    @Override
    public Object acquire(String name) throws Exception {
      ByteSequence key = ByteSequence.from("/limit/bench/" + name, StandardCharsets.UTF_8);
      client
          .getKVClient()
          .txn()
          .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
          .Then(Op.put(key, ByteSequence.from("owner", StandardCharsets.UTF_8), PutOption.DEFAULT))
          .commit()
          .get(10, TimeUnit.SECONDS);
      return key;
    }

    @Override
    public void release(Object hold) throws Exception {
      client.getKVClient().delete((ByteSequence) hold).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /** ZooKeeper through Curator, as fenced: create an ephemeral sequential node + delete it. */
  static final class ZooKeeperPair implements LockTarget {
    private final CuratorFramework client;

    ZooKeeperPair() {
      client =
          CuratorFrameworkFactory.newClient(
              Servers.zkConnect(), 10_000, 3_000, new ExponentialBackoffRetry(100, 3));
      client.start();
    }

    @Override
    public Object acquire(String name) throws Exception {
      return client
          .create()
          .creatingParentContainersIfNeeded()
          .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
          .forPath("/limit/bench/" + name + "/n-");
    }

    @Override
    public void release(Object hold) throws Exception {
      client.delete().forPath((String) hold);
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /** A Lease created and deleted on the Fabric8 mock API server (not a real API server). */
  static final class LeasePair implements LockTarget {
    private final MockApiServer apiServer = new MockApiServer();

    @Override
    public Object acquire(String name) {
      Lease lease =
          new LeaseBuilder()
              .withNewMetadata()
              .withName(LeaderElectorTarget.LeaseNames.of(name))
              .withNamespace("bench-limit")
              .endMetadata()
              .withNewSpec()
              .withHolderIdentity(UUID.randomUUID().toString())
              .withLeaseDurationSeconds(10)
              .endSpec()
              .build();
      try {
        apiServer.client().resource(lease).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
      return lease;
    }

    @Override
    public void release(Object hold) {
      apiServer.client().resource((Lease) hold).delete();
    }

    @Override
    public void close() {
      apiServer.close();
    }
  }
}
