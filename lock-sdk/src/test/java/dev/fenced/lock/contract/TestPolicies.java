package dev.fenced.lock.contract;

import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockPolicyYaml;
import dev.fenced.lock.policy.LockServiceFactory;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * LockPolicy files for every distributed backend on the test servers, built the way a service
 * builds its locks ({@link LockServiceFactory}), optionally pointed at another address (a {@code
 * BlackHoleProxy} in front of the server). Shared by the tests that run one case per backend in
 * this JVM or in a child JVM.
 */
public final class TestPolicies {

  /** The {@code backend()} names of the distributed backends, one test case each. */
  public static final List<String> BACKENDS =
      List.of(
          "Redis",
          "Postgres/LockTable",
          "Postgres/RowLock",
          "Postgres/Advisory",
          "Etcd",
          "ZooKeeper");

  private TestPolicies() {}

  /** For {@code @MethodSource}. */
  public static List<String> backends() {
    return BACKENDS;
  }

  /** Where the test server of {@code backend} listens. */
  public static InetSocketAddress address(String backend) {
    return switch (family(backend)) {
      case "Redis" -> hostPort(URI.create(TestServers.redisUrl()));
      case "Etcd" -> hostPort(URI.create(TestServers.etcdEndpoints().split(",")[0].strip()));
      case "ZooKeeper" -> {
        String first = TestServers.zkConnect().split(",")[0].strip();
        int colon = first.lastIndexOf(':');
        yield InetSocketAddress.createUnresolved(
            first.substring(0, colon), Integer.parseInt(first.substring(colon + 1)));
      }
      default -> InetSocketAddress.createUnresolved(TestServers.pgHost(), TestServers.pgPort());
    };
  }

  /**
   * A policy for {@code backend} covering {@code lockPrefix*}, reaching the server at {@code via}
   * (null: the server itself).
   */
  public static String yaml(
      String backend,
      String lockPrefix,
      Duration lease,
      Duration renew,
      Duration maxWait,
      InetSocketAddress via) {
    InetSocketAddress at = via == null ? address(backend) : via;
    String hostPort = at.getHostString() + ":" + at.getPort();
    String block =
        switch (family(backend)) {
          case "Redis" -> "    type: Redis\n    redis:\n      url: redis://" + hostPort + "\n";
          case "Etcd" ->
              "    type: Etcd\n    etcd:\n      endpoints: [\"http://" + hostPort + "\"]\n";
          case "ZooKeeper" ->
              "    type: ZooKeeper\n    zookeeper:\n      connectString: \"" + hostPort + "\"\n";
          default ->
              "    type: Postgres\n    postgres:\n"
                  + ("      host: " + at.getHostString() + "\n")
                  + ("      port: " + at.getPort() + "\n")
                  + ("      database: " + TestServers.pgDatabase() + "\n")
                  + ("      mode: " + backend.substring("Postgres/".length()) + "\n")
                  + "      credentialsSecretRef: { name: postgres }\n";
        };
    return "apiVersion: locks.fenced.dev/v1alpha1\n"
        + "kind: LockPolicy\n"
        + "metadata: { name: test, namespace: test }\n"
        + "spec:\n"
        + ("  lockNames: [\"" + lockPrefix + "*\"]\n")
        + "  backend:\n"
        + block
        + ("  leaseDuration: " + lease.toMillis() + "ms\n")
        + ("  renewInterval: " + renew.toMillis() + "ms\n")
        + ("  maxWait: " + maxWait.toMillis() + "ms\n")
        + "  fencing: Required\n";
  }

  /** Writes the Secrets the policies reference ({@code postgres}) under {@code dir/secrets}. */
  public static Path writeSecrets(Path dir) throws IOException {
    Path pg = Files.createDirectories(dir.resolve("secrets/postgres"));
    Files.writeString(pg.resolve("username"), TestServers.pgUser());
    Files.writeString(pg.resolve("password"), TestServers.pgPassword());
    return dir.resolve("secrets");
  }

  /** A new, provisioned service for the policy in {@code yaml}, as a service would build it. */
  public static ManagedLockService create(Vertx vertx, Path secrets, String yaml) {
    var read = LockPolicyYaml.read("test.yaml", yaml);
    if (!read.problems().isEmpty()) {
      throw new IllegalArgumentException(read.problems().toString());
    }
    ManagedLockService service =
        new LockServiceFactory(vertx, new DirectorySecretResolver(secrets), null, null)
            .create(read.policies().get(0));
    try {
      service.provision().toCompletableFuture().join();
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    return service;
  }

  private static String family(String backend) {
    int slash = backend.indexOf('/');
    return slash < 0 ? backend : backend.substring(0, slash);
  }

  private static InetSocketAddress hostPort(URI uri) {
    return InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort());
  }
}
