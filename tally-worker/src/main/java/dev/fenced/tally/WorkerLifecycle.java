package dev.fenced.tally;

import dev.fenced.lock.policy.PolicyLocks;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/** Starts the {@link TallyWorker} once the migrations have run, and stops it cleanly. */
@Singleton
public class WorkerLifecycle {

  private static final Logger LOG = Logger.getLogger(WorkerLifecycle.class);

  private final TallyWorker worker;
  private final boolean enabled;

  WorkerLifecycle(
      Vertx vertx, Pool pool, PolicyLocks locks, TallyConfig config, MeterRegistry registry) {
    this.enabled = config.enabled();
    this.worker = new TallyWorker(vertx, pool, locks, config.toSettings(), registry);
  }

  void onStart(@Observes StartupEvent event) {
    if (enabled) {
      worker.start();
    } else {
      LOG.info("tally.enabled=false: not folding");
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    try {
      worker.stop().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warnf("clean stop did not finish (%s); the leases will free the polls", e.toString());
    }
  }

  public Optional<TallyWorker> worker() {
    return enabled ? Optional.of(worker) : Optional.empty();
  }

  TallyWorker instance() {
    return worker;
  }
}
