package dev.fenced.tally;

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
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * Locks through lock-sdk's {@link PolicyLocks}, following the LockPolicies of the Kubernetes API or
 * of a folder live ({@code fenced.policies.source}).
 */
@Singleton
public class LocksProducer {

  private static final Logger LOG = Logger.getLogger(LocksProducer.class);

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
    if (kind(config) == PolicySourceKind.KUBERNETES) {
      KubernetesClient client = kubernetes.get();
      String namespace = namespace(config, client);
      LOG.infof("LockPolicies from the Kubernetes API, namespace %s", namespace);
      return new KubernetesPolicySource(client, namespace);
    }
    LOG.infof("LockPolicies from the folder %s", config.policiesDir());
    return new DirectoryPolicySource(Path.of(config.policiesDir()));
  }

  void closeSource(@Disposes PolicySource source) {
    source.close();
  }

  @Produces
  @Singleton
  PolicyLocks policyLocks(
      Vertx vertx,
      PolicySource source,
      LeaseKeeper keeper,
      LocksConfig config,
      Instance<KubernetesClient> kubernetes) {
    SecretResolver secrets;
    if (kind(config) == PolicySourceKind.KUBERNETES) {
      KubernetesClient client = kubernetes.get();
      secrets = new KubernetesSecretResolver(client, namespace(config, client));
    } else {
      secrets = new DirectorySecretResolver(Path.of(config.secretsDir()));
    }
    // The client is asked for only when a KubernetesLease policy is built.
    return new PolicyLocks(source, new LockServiceFactory(vertx, secrets, kubernetes::get, keeper));
  }

  static PolicySourceKind kind(LocksConfig config) {
    return PolicySourceKind.parse(
            "fenced.policies.source (env FENCED_POLICY_SOURCE)", config.policySource())
        .resolve(System.getenv());
  }

  /** The namespace of the policies and Secrets: the setting, else the client's own. */
  static String namespace(LocksConfig config, KubernetesClient client) {
    return KubernetesPolicySource.namespaceFor(config.policyNamespace(), client);
  }

  void closeLocks(@Disposes PolicyLocks locks) {
    locks.close();
  }
}
