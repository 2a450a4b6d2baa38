package dev.fenced.lock.quarkus;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * The readiness part every service shares: the backend of every LockPolicy in force answers its
 * probe. Each service's own readiness check adds what it needs besides (its database, the lock
 * names it must find governed).
 */
@Singleton
public class LockBackends {

  /** How long one backend's probe may take before it counts as down. */
  public static final Duration PROBE_LIMIT = Duration.ofSeconds(2);

  private final PolicyLocks locks;

  LockBackends(PolicyLocks locks) {
    this.locks = locks;
  }

  /**
   * Probes every policy's backend at once and writes one data entry per policy into {@code answer}
   * ({@code <policy>: <backend> epoch 7 up in 3ms: <detail>}, the epoch in force, which the
   * backend's ledger may have raised above the policy's), plus one per policy problem.
   *
   * @return true when at least one policy is in force and every backend answered as reachable
   */
  public Uni<Boolean> probeInto(HealthCheckResponseBuilder answer) {
    List<ActivePolicy> active = locks.active();
    locks.problems().forEach(p -> answer.withData("problem " + p.source(), p.message()));
    if (active.isEmpty()) {
      answer.withData("policies", "no Ready LockPolicy is in force");
      return Uni.createFrom().item(false);
    }
    List<Uni<BackendProbe>> probes = active.stream().map(LockBackends::probe).toList();
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
                        + " epoch "
                        + active.get(i).settings().epoch()
                        + (probe.reachable() ? " up" : " DOWN")
                        + (probe.latency() == null
                            ? ""
                            : " in " + probe.latency().toMillis() + "ms")
                        + ": "
                        + probe.detail());
              }
              return up;
            });
  }

  private static Uni<BackendProbe> probe(ActivePolicy policy) {
    String backend = policy.admin().backend();
    return Uni.createFrom()
        .completionStage(() -> policy.admin().probe())
        .ifNoItem()
        .after(PROBE_LIMIT)
        .fail()
        .onFailure()
        .recoverWithItem(e -> BackendProbe.down(backend, e));
  }
}
