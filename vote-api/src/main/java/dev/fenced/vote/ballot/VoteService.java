package dev.fenced.vote.ballot;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.fencing.StaleFenceException;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import dev.fenced.lock.sql.HoldLostException;
import dev.fenced.lock.support.Failures;
import dev.fenced.vote.FencedConfig;
import dev.fenced.vote.api.Fields;
import dev.fenced.vote.api.PollView;
import dev.fenced.vote.api.Problem;
import dev.fenced.vote.api.ProblemException;
import dev.fenced.vote.api.VoteAnswer;
import dev.fenced.vote.api.VoteRequest;
import dev.fenced.vote.db.DbErrors;
import dev.fenced.vote.lock.LockMetrics;
import dev.fenced.vote.lock.VoteLocks;
import dev.fenced.vote.poll.PollService;
import dev.fenced.vote.poll.ResultsReader;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Records a vote. Locked (the default): after the checks that need no lock (body, poll, option, and
 * whether the voter has voted already), the vote queues for the lock {@code vote:{poll}:{option}}
 * of the policy governing it, and joins the next hold of that lock in this replica ({@link
 * LockedVotes}): one transaction per hold inserts its batch's ballots, reads the counter and writes
 * it back fenced. Atomic: no lock, one statement per vote ({@link AtomicVotes}).
 */
@ApplicationScoped
public class VoteService {

  private static final Logger LOG = Logger.getLogger(VoteService.class);

  private final PollService polls;
  private final VoteLocks locks;
  private final LockedVotes locked;
  private final AtomicVotes atomic;
  private final ResultsReader results;
  private final LockMetrics metrics;
  private final Pool pool;
  private final FencedConfig.Counter counter;
  private final boolean checkDuplicatesFirst;
  private final Duration retryAfter;

  VoteService(
      PollService polls,
      VoteLocks locks,
      LockedVotes locked,
      AtomicVotes atomic,
      ResultsReader results,
      LockMetrics metrics,
      Pool pool,
      FencedConfig config) {
    this.polls = polls;
    this.locks = locks;
    this.locked = locked;
    this.atomic = atomic;
    this.results = results;
    this.metrics = metrics;
    this.pool = pool;
    this.counter = config.vote().counter();
    this.checkDuplicatesFirst = config.vote().checkDuplicatesFirst();
    this.retryAfter = config.vote().retryAfter();
  }

  /** Answers 201's body, or fails with a {@link ProblemException} carrying the status. */
  public Uni<VoteAnswer> vote(String pollId, VoteRequest request) {
    String poll;
    String voter;
    String option;
    try {
      poll = Fields.id("id", pollId);
      if (request == null) {
        throw ProblemException.badRequest(
            "body", "a JSON object {\"voter\",\"option\"} is required");
      }
      voter = Fields.id("voter", request.voter());
      option = Fields.id("option", request.option());
    } catch (ProblemException e) {
      metrics.vote("invalid");
      return Uni.createFrom().failure(e);
    }
    return polls
        .find(poll)
        .flatMap(
            found -> {
              check(found, poll, option);
              return counter == FencedConfig.Counter.ATOMIC
                  ? stage(() -> atomic.vote(poll, option, voter))
                  : underLock(poll, option, voter);
            })
        .map(
            outcome -> {
              if (!outcome.recorded()) {
                throw new AlreadyVotedException(poll, voter);
              }
              results.changed(poll);
              return new VoteAnswer(poll, option, voter, outcome.count(), outcome.fence());
            })
        .onItem()
        .invoke(() -> metrics.vote("recorded"))
        .onFailure()
        .transform(failure -> answerFor(Failures.unwrap(failure), poll, voter));
  }

  private Uni<Outcome> underLock(String poll, String option, String voter) {
    Uni<Boolean> voted =
        checkDuplicatesFirst
            ? stage(
                () ->
                    pool.preparedQuery(VoteSql.HAS_VOTED)
                        .execute(Tuple.of(poll, voter))
                        .map(rows -> rows.iterator().next().getBoolean(0))
                        .toCompletionStage())
            : Uni.createFrom().item(false);
    return voted.flatMap(
        already -> {
          if (already) {
            return Uni.createFrom().item(Outcome.DUPLICATE);
          }
          String name = LockedVotes.lockName(poll, option);
          ActivePolicy policy = locks.resolve(name);
          CompletableFuture<Outcome> answer = locked.vote(policy, poll, option, voter);
          // A client that goes away while its vote is still queued withdraws it.
          return Uni.createFrom()
              .completionStage(answer)
              .onCancellation()
              .invoke(() -> answer.cancel(false));
        });
  }

  private static <T> Uni<T> stage(Supplier<CompletionStage<T>> call) {
    return Uni.createFrom().completionStage(call);
  }

  private void check(PollView found, String poll, String option) {
    if (found == null) {
      throw ProblemException.notFound("id", "no poll '" + poll + "'");
    }
    if (!found.options().contains(option)) {
      throw ProblemException.badRequest(
          "option",
          "'"
              + option
              + "' is not an option of poll '"
              + poll
              + "'; its options are "
              + found.options());
    }
  }

  /** The answer for a failed vote, counted by outcome. Every 503 means nothing was recorded. */
  private ProblemException answerFor(Throwable failure, String poll, String voter) {
    if (failure instanceof ProblemException problem) {
      metrics.vote(problem.problem().status() == 404 ? "unknown_poll" : "invalid");
      return problem;
    }
    if (failure instanceof AlreadyVotedException e) {
      metrics.vote("duplicate");
      return ProblemException.conflict("voter", e.getMessage());
    }
    if (failure instanceof LockTimeoutException e) {
      metrics.vote("lock_timeout");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof BackendUnavailableException e) {
      metrics.vote("lock_backend_unavailable");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof CircuitBreakerOpenException e) {
      metrics.vote("lock_backend_unavailable");
      return ProblemException.unavailable(
          "the lock backend is failing; calls to it are paused for a moment", retryAfter, e);
    }
    if (failure instanceof InvalidLockPolicyException e) {
      metrics.vote("no_lock_policy");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof LockException e) {
      metrics.vote("lock_failed");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof HoldLostException e) {
      metrics.vote("lease_lost");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof StaleFenceException e) {
      metrics.vote("fence_rejected");
      return ProblemException.unavailable(
          "a newer lock holder wrote the counter; this vote and its batch were rolled back",
          retryAfter,
          e);
    }
    if (DbErrors.isTransient(failure)) {
      metrics.vote("database_unavailable");
      return ProblemException.unavailable(
          "the database did not answer in time; nothing was recorded", retryAfter, failure);
    }
    metrics.vote("error");
    LOG.errorf(failure, "vote of %s in poll %s failed", voter, poll);
    return new ProblemException(
        new Problem(500, "Internal error", "the vote failed; see the server log", null),
        null,
        failure);
  }
}
