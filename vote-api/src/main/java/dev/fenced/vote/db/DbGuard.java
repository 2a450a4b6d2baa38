package dev.fenced.vote.db;

import dev.fenced.vote.FencedConfig;
import io.smallrye.faulttolerance.api.Guard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.util.TypeLiteral;
import java.time.temporal.ChronoUnit;
import java.util.function.Supplier;

/**
 * For database calls that may be repeated safely (reading polls and results, creating a poll):
 * transient failures are retried twice after a short jittered pause, each attempt limited by {@code
 * fenced.db.timeout}. The vote transaction is not among them: it is never retried by the service.
 */
@ApplicationScoped
public class DbGuard {

  private final Guard guard;

  DbGuard(FencedConfig config) {
    this.guard =
        Guard.create()
            .withDescription("poll and result queries")
            .withRetry()
            .maxRetries(2)
            .delay(100, ChronoUnit.MILLIS)
            .jitter(50, ChronoUnit.MILLIS)
            .whenException(DbErrors::isTransient)
            .done()
            .withTimeout()
            .duration(config.db().timeout().toMillis(), ChronoUnit.MILLIS)
            .done()
            .build();
  }

  /** Runs {@code work}, retried on transient failures, each attempt under the time limit. */
  public <T> Uni<T> call(Supplier<Uni<T>> work) {
    return guard.get(work, new TypeLiteral<Uni<T>>() {});
  }
}
