package dev.fenced.tally;

import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.postgres.PostgresMode;
import dev.fenced.lock.quarkus.LockBackends;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when the database answers, a LockPolicy governs the tally locks, and the backend of every
 * policy in force answers its probe (lock-quarkus's {@link LockBackends}).
 */
@Readiness
@Singleton
public class ReadinessCheck implements AsyncHealthCheck {

  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private final Pool pool;
  private final PolicyLocks locks;
  private final LockBackends backends;

  ReadinessCheck(Pool pool, PolicyLocks locks, LockBackends backends) {
    this.pool = pool;
    this.locks = locks;
    this.backends = backends;
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
    Uni<Boolean> lockBackends =
        backends
            .probeInto(response)
            .ifNoItem()
            .after(TIMEOUT)
            .recoverWithItem(
                () -> {
                  response.withData("lockBackends", "probes did not answer within " + TIMEOUT);
                  return false;
                });
    return Uni.combine()
        .all()
        .unis(database, lockBackends)
        .asTuple()
        .map(
            t -> {
              boolean up = t.getItem1() && t.getItem2();
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
              return response.status(up).build();
            });
  }
}
