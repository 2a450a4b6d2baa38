package dev.fenced.vote.lock;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import dev.fenced.lock.support.Failures;
import io.smallrye.faulttolerance.api.TypedGuard;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.util.TypeLiteral;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Takes locks through {@link PolicyLocks}, with what a service needs around them: a circuit breaker
 * per policy and backend (a backend that keeps failing answers fast instead of piling up waiters),
 * a last-resort time limit in case a backend never answers, and the lock metrics.
 */
@ApplicationScoped
public class VoteLocks {

  /** A hold as this service tracks it. */
  public record Held(LockHandle handle, String backend, long acquiredNanos) {}

  private static final Logger LOG = Logger.getLogger(VoteLocks.class);

  /** Beyond the policy's maxWait, how long an acquire may take before it counts as a failure. */
  private static final Duration GRACE = Duration.ofSeconds(3);

  private static final TypeLiteral<Uni<LockHandle>> UNI_HANDLE = new TypeLiteral<>() {};

  private final PolicyLocks locks;
  private final LockMetrics metrics;
  private final Vertx vertx;
  private final Map<String, TypedGuard<Uni<LockHandle>>> breakers = new ConcurrentHashMap<>();

  VoteLocks(PolicyLocks locks, LockMetrics metrics, Vertx vertx) {
    this.locks = locks;
    this.metrics = metrics;
    this.vertx = vertx;
  }

  /**
   * Acquires {@code name} under its policy, waiting at most the policy's maxWait. Fails with a
   * {@link LockException} or {@link CircuitBreakerOpenException}; nothing is held then.
   */
  public Uni<Held> acquire(String name) {
    Optional<ActivePolicy> governing = locks.resolve(name);
    if (governing.isEmpty()) {
      metrics.acquireFailed("unresolved", LockException.Reason.POLICY_INVALID.name());
      return Uni.createFrom()
          .failure(
              new InvalidLockPolicyException(
                  name, "no Ready LockPolicy governs lock name '" + name + "'"));
    }
    ActivePolicy policy = governing.get();
    String backend = policy.service().backend();
    Duration limit = policy.settings().maxWait().plus(GRACE);
    TypedGuard<Uni<LockHandle>> breaker =
        breakers.computeIfAbsent(policy.ref() + " " + backend, VoteLocks::newBreaker);
    long start = System.nanoTime();
    return breaker
        .get(() -> acquireOnce(name, backend, limit))
        .onItem()
        .transform(
            handle -> {
              long now = System.nanoTime();
              metrics.waited(backend, true, now - start);
              return new Held(handle, backend, now);
            })
        .onFailure()
        .invoke(
            failure -> {
              metrics.waited(backend, false, System.nanoTime() - start);
              metrics.acquireFailed(backend, reason(failure));
            });
  }

  /** Releases a hold taken here; never fails (a failed release ends with the lease). */
  public Uni<Void> release(Held held) {
    return Uni.createFrom()
        .completionStage(() -> held.handle().release())
        .onItemOrFailure()
        .transform(
            (result, failure) -> {
              metrics.held(held.backend(), System.nanoTime() - held.acquiredNanos());
              if (failure != null) {
                LOG.warnf(
                    "release of %s failed; its lease will end it: %s",
                    held.handle().name(), failure.toString());
              }
              return null;
            });
  }

  /** Records the hold time of a hold that ended some other way (a RowLock commit or rollback). */
  public void ended(Held held) {
    metrics.held(held.backend(), System.nanoTime() - held.acquiredNanos());
  }

  private Uni<LockHandle> acquireOnce(String name, String backend, Duration limit) {
    return Uni.createFrom()
        .emitter(
            emitter -> {
              CompletionStage<LockHandle> stage;
              try {
                stage = locks.acquire(name);
              } catch (RuntimeException e) {
                emitter.fail(e);
                return;
              }
              AtomicBoolean answered = new AtomicBoolean();
              long timer =
                  vertx.setTimer(
                      limit.toMillis(),
                      id -> {
                        if (answered.compareAndSet(false, true)) {
                          emitter.fail(
                              new BackendUnavailableException(
                                  backend,
                                  name,
                                  new TimeoutException("no answer within " + limit)));
                        }
                      });
              // A subscriber that went away (client gone) hands a late hold straight back.
              emitter.onTermination(() -> answered.set(true));
              stage.whenComplete(
                  (handle, failure) -> {
                    vertx.cancelTimer(timer);
                    if (answered.compareAndSet(false, true)) {
                      if (failure != null) {
                        emitter.fail(Failures.unwrap(failure));
                      } else {
                        emitter.complete(handle);
                      }
                    } else if (handle != null) {
                      handle.release();
                    }
                  });
            });
  }

  private static TypedGuard<Uni<LockHandle>> newBreaker(String key) {
    return TypedGuard.create(UNI_HANDLE)
        .withDescription("lock backend " + key)
        .withCircuitBreaker()
        .name("lock backend " + key)
        // Only an unreachable backend trips it: waiting out a busy lock is the backend working.
        .failOn(BackendUnavailableException.class)
        .requestVolumeThreshold(10)
        .failureRatio(0.5)
        .delay(5, ChronoUnit.SECONDS)
        .successThreshold(1)
        .onStateChange(state -> LOG.infof("circuit breaker for lock backend %s: %s", key, state))
        .done()
        .build();
  }

  /** The metrics label of a failed acquire. */
  public static String reason(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof LockException lock) {
      return lock.reason().name();
    }
    if (cause instanceof CircuitBreakerOpenException) {
      return "CIRCUIT_OPEN";
    }
    return "OTHER";
  }
}
