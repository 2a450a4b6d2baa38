package dev.fenced.lock.quarkus;

import dev.fenced.lock.policy.DirectoryPolicySource;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.KubernetesPolicySource;
import dev.fenced.lock.policy.KubernetesSecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicySource;
import dev.fenced.lock.policy.PolicySourceKind;
import dev.fenced.lock.policy.SecretResolver;
import dev.fenced.lock.support.LeaseKeeper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
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
 * Builds a service's lock stack from lock-sdk: policies and Secrets from the Kubernetes API or from
 * folders ({@code fenced.policies.source}), backends built on Quarkus's Vert.x (and on its Redis
 * client where a policy points at the server {@code quarkus.redis.hosts} names by URL; a policy
 * that names Sentinels gets its own client, which follows the primary they name), one timer for
 * every hold's renewals, and {@link PolicyLocks} on top. Everything is closed when the application
 * stops. The stack is built at start, so a missing policy folder or an API server that refuses the
 * list stops the service at once.
 */
@Singleton
public class LockWiring {

  private static final Logger LOG = Logger.getLogger(LockWiring.class);

  /** The source {@code fenced.policies.source} names; auto is decided by the environment. */
  static PolicySourceKind sourceKind(LocksConfig config) {
    return PolicySourceKind.parse(
            "fenced.policies.source (env FENCED_POLICY_SOURCE)", config.policies().source())
        .resolve(System.getenv());
  }

  /** The namespace of the policies and Secrets: the setting, else the client's own. */
  static String namespace(LocksConfig config, KubernetesClient client) {
    return KubernetesPolicySource.namespaceFor(config.policies().namespace(), client);
  }

  @Produces
  @Singleton
  LeaseKeeper leaseKeeper() {
    return new LeaseKeeper();
  }

  void closeKeeper(@Disposes LeaseKeeper keeper) {
    keeper.close();
  }

  @Produces
  @Singleton
  PolicySource policySource(LocksConfig config, Instance<KubernetesClient> kubernetes) {
    if (sourceKind(config) == PolicySourceKind.KUBERNETES) {
      KubernetesClient client = kubernetes.get();
      String namespace = namespace(config, client);
      LOG.infof("LockPolicies from the Kubernetes API, namespace %s", namespace);
      return new KubernetesPolicySource(client, namespace);
    }
    Path dir =
        Path.of(
                config
                    .policies()
                    .dir()
                    .filter(d -> !d.isBlank())
                    .orElseThrow(
                        () ->
                            new IllegalStateException(
                                "fenced.policies.dir (env FENCED_POLICIES_DIR) must name a folder"
                                    + " of LockPolicy YAML files when the policy source is"
                                    + " directory (fenced.policies.source / FENCED_POLICY_SOURCE)")))
            .toAbsolutePath()
            .normalize();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "fenced.policies.dir (env FENCED_POLICIES_DIR) must name a folder of LockPolicy YAML"
              + " files; "
              + dir
              + " does not exist or is not a folder");
    }
    LOG.infof("LockPolicies from the folder %s", dir);
    return new DirectoryPolicySource(dir);
  }

  void closePolicySource(@Disposes PolicySource source) {
    source.close();
  }

  @Produces
  @Singleton
  SecretResolver secrets(LocksConfig config, Instance<KubernetesClient> kubernetes) {
    if (sourceKind(config) == PolicySourceKind.KUBERNETES) {
      KubernetesClient client = kubernetes.get();
      return new KubernetesSecretResolver(client, namespace(config, client));
    }
    Optional<String> dir = config.secrets().dir().filter(d -> !d.isBlank());
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
      LocksConfig config,
      Vertx vertx,
      SecretResolver secrets,
      LeaseKeeper keeper,
      Instance<Redis> redis,
      Instance<KubernetesClient> kubernetes) {
    List<URI> managed =
        ConfigProvider.getConfig()
            .getOptionalValues("quarkus.redis.hosts", String.class)
            .orElse(List.of())
            .stream()
            .map(URI::create)
            .toList();
    // The Kubernetes client is asked for only when a KubernetesLease policy is built.
    return withClockDrift(new LockServiceFactory(vertx, secrets, kubernetes::get, keeper), config)
        .withRedisClients(
            url -> {
              URI wanted = URI.create(url);
              boolean same = managed.stream().anyMatch(m -> sameServer(m, wanted));
              return same && redis.isResolvable() ? redis.get() : null;
            });
  }

  /** The factory with {@code fenced.lock.clock-drift}; a value out of range stops the service. */
  static LockServiceFactory withClockDrift(LockServiceFactory factory, LocksConfig config) {
    double drift = config.lock().clockDrift();
    try {
      return factory.withClockDrift(drift);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "fenced.lock.clock-drift (env FENCED_LOCK_CLOCK_DRIFT) must be at least 0 and below 0.5"
              + " (a fraction of the lease, e.g. 0.01 for 1%), was "
              + drift,
          e);
    }
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
  PolicyLocks policyLocks(PolicySource source, LockServiceFactory factory) {
    return new PolicyLocks(source, factory);
  }

  void closePolicyLocks(@Disposes PolicyLocks locks) {
    locks.close();
  }

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
