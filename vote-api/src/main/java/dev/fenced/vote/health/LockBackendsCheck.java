package dev.fenced.vote.health;

import dev.fenced.lock.quarkus.LockBackends;
import dev.fenced.vote.FencedConfig;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the backend of every LockPolicy in force answers its probe: a vote under a
 * policy whose backend is down could only answer 503. With {@code fenced.vote.counter=atomic} no
 * lock is used, and the lock backends do not decide readiness. (The database has Quarkus's own
 * checks.)
 */
@Readiness
@ApplicationScoped
public class LockBackendsCheck implements AsyncHealthCheck {

  private final LockBackends backends;
  private final boolean locksUsed;

  LockBackendsCheck(LockBackends backends, FencedConfig config) {
    this.backends = backends;
    this.locksUsed = config.vote().counter() == FencedConfig.Counter.LOCKED;
  }

  @Override
  public Uni<HealthCheckResponse> call() {
    HealthCheckResponseBuilder answer = HealthCheckResponse.named("lock backends");
    if (!locksUsed) {
      return Uni.createFrom()
          .item(answer.up().withData("counter", "atomic: votes take no lock").build());
    }
    return backends.probeInto(answer).map(up -> answer.status(up).build());
  }
}
