package dev.fenced.tally;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.postgres.PostgresMode;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when the database answers, a LockPolicy governs the tally locks, and the backend of every
 * policy in force answers its probe.
 */
@Readiness
@Singleton
public class ReadinessCheck implements AsyncHealthCheck {

  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private final Pool pool;
  private final PolicyLocks locks;

  ReadinessCheck(Pool pool, PolicyLocks locks) {
    this.pool = pool;
    this.locks = locks;
  }

  @Override
  public Uni<HealthCheckResponse> call() {
    HealthCheckResponseBuilder response = HealthCheckResponse.named("tally-worker");
    Uni<Boolean> database =
        Uni.createFrom()
            .completionStage(
                () ->
                    pool.query("SELECT 1").execute().map(true).otherwise(false).toCompletionStage())
            .ifNoItem()
            .after(TIMEOUT)
            .recoverWithItem(false);
    List<PolicyLocks.ActivePolicy> active = locks.active();
    List<CompletableFuture<BackendProbe>> probes = new ArrayList<>();
    for (PolicyLocks.ActivePolicy policy : active) {
      probes.add(policy.service().probe().toCompletableFuture());
    }
    Uni<List<BackendProbe>> backends =
        Uni.createFrom()
            .completionStage(
                CompletableFuture.allOf(probes.toArray(new CompletableFuture[0]))
                    .thenApply(v -> probes.stream().map(CompletableFuture::join).toList()))
            .ifNoItem()
            .after(TIMEOUT)
            .recoverWithItem(List.of());
    return Uni.combine()
        .all()
        .unis(database, backends)
        .asTuple()
        .map(
            t -> {
              boolean up = t.getItem1();
              response.withData("database", t.getItem1() ? "reachable" : "unreachable");
              Optional<PolicyLocks.ActivePolicy> tally =
                  locks.resolve(TallyWorker.LOCK_PREFIX + "readiness-probe");
              boolean governed = tally.isPresent();
              if (tally
                  .map(p -> p.service().backend().equals(PostgresMode.RowLock.backend()))
                  .orElse(false)) {
                // Each hold is an open transaction with an id: on the voting database's cluster it
                // pins pg_snapshot_xmin, and folding stops at that transaction.
                response.withData(
                    "warning",
                    "tally:* on Postgres/RowLock keeps a transaction open per hold; on the voting"
                        + " database's cluster that holds the fold horizon back");
              }
              response.withData(
                  "tallyLocks", governed ? "governed" : "no Ready LockPolicy governs tally:*");
              up &= governed;
              List<BackendProbe> found = t.getItem2();
              if (found.size() != active.size()) {
                up = false;
                response.withData("lockBackends", "probes did not answer within " + TIMEOUT);
              }
              for (int i = 0; i < found.size(); i++) {
                BackendProbe probe = found.get(i);
                up &= probe.reachable();
                response.withData(
                    "policy " + active.get(i).ref(),
                    probe.backend() + (probe.reachable() ? " reachable" : ": " + probe.detail()));
              }
              if (!locks.problems().isEmpty()) {
                response.withData("policyProblems", locks.problems().size());
              }
              return response.status(up).build();
            });
  }
}
