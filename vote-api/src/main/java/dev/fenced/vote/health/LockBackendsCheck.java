package dev.fenced.vote.health;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the backend of every LockPolicy in force answers its probe: a vote under a
 * policy whose backend is down could only answer 503. (The database has Quarkus's own checks.)
 */
@Readiness
@ApplicationScoped
public class LockBackendsCheck implements AsyncHealthCheck {

  private static final Duration PROBE_LIMIT = Duration.ofSeconds(2);

  private final PolicyLocks locks;

  LockBackendsCheck(PolicyLocks locks) {
    this.locks = locks;
  }

  @Override
  public Uni<HealthCheckResponse> call() {
    List<ActivePolicy> active = locks.active();
    HealthCheckResponseBuilder answer = HealthCheckResponse.named("lock backends");
    locks.problems().forEach(p -> answer.withData("problem " + p.source(), p.message()));
    if (active.isEmpty()) {
      return Uni.createFrom()
          .item(answer.down().withData("policies", "no Ready LockPolicy is in force").build());
    }
    List<Uni<BackendProbe>> probes = active.stream().map(LockBackendsCheck::probe).toList();
    return Uni.join()
        .all(probes)
        .andFailFast()
        .map(
            results -> {
              boolean up = true;
              for (int i = 0; i < results.size(); i++) {
                BackendProbe probe = results.get(i);
                up &= probe.reachable();
                answer.withData(
                    active.get(i).ref().toString(),
                    probe.backend()
                        + (probe.reachable() ? " up" : " DOWN")
                        + (probe.latency() == null
                            ? ""
                            : " in " + probe.latency().toMillis() + "ms")
                        + ": "
                        + probe.detail());
              }
              return answer.status(up).build();
            });
  }

  private static Uni<BackendProbe> probe(ActivePolicy policy) {
    String backend = policy.service().backend();
    return Uni.createFrom()
        .completionStage(() -> policy.service().probe())
        .ifNoItem()
        .after(PROBE_LIMIT)
        .fail()
        .onFailure()
        .recoverWithItem(e -> BackendProbe.down(backend, e));
  }
}
