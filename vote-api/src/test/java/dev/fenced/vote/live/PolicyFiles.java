package dev.fenced.vote.live;

import dev.fenced.vote.FencedTestServers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * A LockPolicy file of a test's own in the folder the service follows ({@code fenced.policies.dir},
 * which {@link FencedTestServers} sets up), governing {@code vote:<prefix>*}. Rewriting it with
 * another backend and a higher epoch is a policy switch, as an operator makes one by editing the
 * file.
 */
final class PolicyFiles implements AutoCloseable {

  static final String REDIS =
      "{ type: Redis, redis: { url: \"" + FencedTestServers.REDIS_URL + "\" } }";
  static final String POSTGRES_LOCK_TABLE =
      "{ type: Postgres, postgres: { host: 127.0.0.1, port: "
          + FencedTestServers.PG_PORT
          + ", database: fenced, mode: LockTable, credentialsSecretRef: { name: postgres } } }";

  private final String prefix;
  private final Path file;

  PolicyFiles(String prefix) {
    this.prefix = prefix;
    this.file =
        Path.of(ConfigProvider.getConfig().getValue("fenced.policies.dir", String.class))
            .resolve(prefix + "policy.yaml");
  }

  /** The policy's name; its namespace is {@code voting}. */
  String name() {
    return prefix + "policy";
  }

  /** Writes (or rewrites) the policy, whole, the way the folder's watcher must see it. */
  void write(long epoch, String backend, String maxWait) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(
        tmp,
        """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata:
          name: %s
          namespace: voting
          annotations: { locks.fenced.dev/epoch: "%d" }
        spec:
          lockNames: ["vote:%s*"]
          backend: %s
          maxWait: %s
        """
            .formatted(name(), epoch, prefix, backend, maxWait));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void close() throws IOException {
    Files.deleteIfExists(file);
  }
}
