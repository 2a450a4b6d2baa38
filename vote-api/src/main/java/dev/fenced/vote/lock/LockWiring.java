package dev.fenced.vote.lock;

import dev.fenced.lock.policy.DirectoryPolicySource;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.SecretResolver;
import dev.fenced.vote.FencedConfig;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Builds the lock stack from lock-sdk: policies from a folder, Secrets from a folder, backends
 * built on Quarkus's Vert.x (and its Redis client where a policy points at the same server), and
 * {@link PolicyLocks} on top. Everything is closed when the application stops.
 */
@ApplicationScoped
public class LockWiring {

  private static final Logger LOG = Logger.getLogger(LockWiring.class);

  @Produces
  @Singleton
  DirectoryPolicySource policySource(FencedConfig config) {
    Path dir = Path.of(config.policies().dir()).toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "fenced.policies.dir (env FENCED_POLICIES_DIR) must name a folder of LockPolicy YAML"
              + " files; "
              + dir
              + " does not exist or is not a folder");
    }
    return new DirectoryPolicySource(dir);
  }

  void closePolicySource(@Disposes DirectoryPolicySource source) {
    source.close();
  }

  @Produces
  @Singleton
  SecretResolver secrets(FencedConfig config) {
    Optional<String> dir = config.secrets().dir();
    if (dir.isEmpty()) {
      return new SecretResolver() {
        @Override
        public Optional<String> find(String name, String key) {
          return Optional.empty();
        }

        @Override
        public String toString() {
          return "no secrets folder (set fenced.secrets.dir / FENCED_SECRETS_DIR)";
        }
      };
    }
    return new DirectorySecretResolver(Path.of(dir.get()));
  }

  @Produces
  @Singleton
  LockServiceFactory lockServiceFactory(
      Vertx vertx, SecretResolver secrets, Instance<Redis> redis) {
    List<URI> managed =
        ConfigProvider.getConfig()
            .getOptionalValues("quarkus.redis.hosts", String.class)
            .orElse(List.of())
            .stream()
            .map(URI::create)
            .toList();
    return new LockServiceFactory(vertx, secrets, null, null)
        .withRedisClients(
            url -> {
              URI wanted = URI.create(url);
              boolean same = managed.stream().anyMatch(m -> sameServer(m, wanted));
              return same && redis.isResolvable() ? redis.get() : null;
            });
  }

  /** Same scheme, host, port and database; credentials are not part of the comparison. */
  static boolean sameServer(URI a, URI b) {
    return a.getScheme() != null
        && a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null
        && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b)
        && database(a).equals(database(b));
  }

  private static int port(URI uri) {
    return uri.getPort() < 0 ? 6379 : uri.getPort();
  }

  private static String database(URI uri) {
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    return path.isEmpty() ? "0" : path;
  }

  @Produces
  @Singleton
  PolicyLocks policyLocks(DirectoryPolicySource source, LockServiceFactory factory) {
    return new PolicyLocks(source, factory);
  }

  void closePolicyLocks(@Disposes PolicyLocks locks) {
    locks.close();
  }

  /** Builds the stack at start, so a missing policy folder stops the service at once. */
  void onStart(@Observes StartupEvent event, PolicyLocks locks) {
    locks
        .active()
        .forEach(
            a ->
                LOG.infof(
                    "LockPolicy %s: %s for %s",
                    a.ref(), a.service().backend(), a.policy().getSpec().getLockNames()));
    locks.problems().forEach(p -> LOG.errorf("LockPolicy problem: %s", p));
  }
}
