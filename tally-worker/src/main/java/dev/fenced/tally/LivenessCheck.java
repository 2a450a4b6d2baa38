package dev.fenced.tally;

import jakarta.inject.Singleton;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** Live while the fold timer keeps firing (or the worker is switched off). */
@Liveness
@Singleton
public class LivenessCheck implements HealthCheck {

  private final WorkerLifecycle lifecycle;
  private final Duration within;

  LivenessCheck(WorkerLifecycle lifecycle, TallyConfig config) {
    this.lifecycle = lifecycle;
    // Generous: a busy event loop may delay a tick; a stuck one stops them all.
    this.within = config.foldInterval().multipliedBy(10).plusSeconds(5);
  }

  @Override
  public HealthCheckResponse call() {
    boolean up = lifecycle.worker().map(w -> w.ticking(within)).orElse(true);
    return HealthCheckResponse.named("tally-worker-loop").status(up).build();
  }
}
