package dev.fenced.tally;

import dev.fenced.lock.policy.DirectoryPolicySource;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicySource;
import dev.fenced.lock.support.LeaseKeeper;
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.nio.file.Path;

/** Locks through lock-sdk's {@link PolicyLocks}, following the policy folder live. */
@Singleton
public class LocksProducer {

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
  PolicySource policySource(LocksConfig config) {
    return new DirectoryPolicySource(Path.of(config.policiesDir()));
  }

  void closeSource(@Disposes PolicySource source) {
    source.close();
  }

  @Produces
  @Singleton
  PolicyLocks policyLocks(
      Vertx vertx, PolicySource source, LeaseKeeper keeper, LocksConfig config) {
    return new PolicyLocks(
        source,
        new LockServiceFactory(
            vertx, new DirectorySecretResolver(Path.of(config.secretsDir())), null, keeper));
  }

  void closeLocks(@Disposes PolicyLocks locks) {
    locks.close();
  }
}
