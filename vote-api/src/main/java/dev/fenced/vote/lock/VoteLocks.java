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
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Takes locks through {@link PolicyLocks}, with what a service needs around them: a circuit breaker
 * per policy and backend (a backend that keeps failing answers fast instead of piling up waiters),
 * a last-resort time limit in case a backend never answers, and the lock metrics. A lock name is
 * resolved to its policy once ({@link #resolve}); the acquire, the breaker and every metric label
 * then use that same policy and backend.
 */
@ApplicationScoped
public class VoteLocks {

  /**
   * A hold as this service tracks it: the policy and backend it was taken through, and the votes it
   * has served (over every batch it ran), recorded when it is released.
   */
  public record Held(
      LockHandle handle, String backend, String policy, long acquiredNanos, LongAdder votes) {

    /** Counts {@code n} more votes served by this hold. */
    public void served(int n) {
      votes.add(n);
    }
  }

  private static final Logger LOG = Logger.getLogger(VoteLocks.class);

  /** Beyond the wait asked for, how long an acquire may take before it counts as a failure. */
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
   * The policy governing {@code name}; fails with {@link InvalidLockPolicyException} (counted as an
   * acquire failure) when none does.
   */
  public ActivePolicy resolve(String name) {
    Optional<ActivePolicy> governing = locks.resolve(name);
    if (governing.isEmpty()) {
      metrics.acquireFailed("unresolved", LockException.Reason.POLICY_INVALID.name());
      throw new InvalidLockPolicyException(
          name, "no Ready LockPolicy governs lock name '" + name + "'");
    }
    return governing.get();
  }

  /**
   * Acquires {@code name} through {@code policy}, waiting at most {@code maxWait}. Fails with a
   * {@link LockException} or {@link CircuitBreakerOpenException}; nothing is held then.
   */
  public CompletionStage<Held> acquire(ActivePolicy policy, String name, Duration maxWait) {
    String backend = policy.service().backend();
    String ref = policy.ref().toString();
    Duration limit = maxWait.plus(GRACE);
    TypedGuard<Uni<LockHandle>> breaker =
        breakers.computeIfAbsent(ref + " " + backend, VoteLocks::newBreaker);
    long start = System.nanoTime();
    return breaker
        .get(() -> acquireOnce(policy, name, maxWait, limit))
        .onItem()
        .transform(
            handle -> {
              long now = System.nanoTime();
              metrics.waited(backend, ref, true, now - start);
              return new Held(handle, backend, ref, now, new LongAdder());
            })
        .onFailure()
        .invoke(
            failure -> {
              metrics.waited(backend, ref, false, System.nanoTime() - start);
              metrics.acquireFailed(backend, reason(failure));
            })
        .subscribeAsCompletionStage();
  }

  /**
   * Releases a hold taken here and records how long it was held and how many votes it served; never
   * fails (a failed release ends with the lease). A hold whose release already happened (a RowLock
   * commit) is released again harmlessly: nothing of anybody else's is touched.
   */
  public CompletionStage<Void> release(Held held) {
    long votes = held.votes().sum();
    if (votes > 0) {
      metrics.batch(held.backend(), held.policy(), votes);
    }
    return held.handle()
        .release()
        .handle(
            (result, failure) -> {
              metrics.held(held.backend(), held.policy(), System.nanoTime() - held.acquiredNanos());
              if (failure != null) {
                LOG.warnf(
                    "release of %s failed; its lease will end it: %s",
                    held.handle().name(), failure.toString());
              }
              return null;
            });
  }

  private Uni<LockHandle> acquireOnce(
      ActivePolicy policy, String name, Duration maxWait, Duration limit) {
    String backend = policy.service().backend();
    return Uni.createFrom()
        .emitter(
            emitter -> {
              CompletionStage<LockHandle> stage;
              try {
                stage = policy.acquire(name, maxWait);
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
