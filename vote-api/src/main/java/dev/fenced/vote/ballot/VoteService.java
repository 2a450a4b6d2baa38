package dev.fenced.vote.ballot;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.ReleaseResult;
import dev.fenced.lock.fencing.StaleFenceException;
import dev.fenced.lock.postgres.PgRowLockHandle;
import dev.fenced.lock.support.Failures;
import dev.fenced.vote.FencedConfig;
import dev.fenced.vote.api.Fields;
import dev.fenced.vote.api.PollView;
import dev.fenced.vote.api.Problem;
import dev.fenced.vote.api.ProblemException;
import dev.fenced.vote.api.VoteAnswer;
import dev.fenced.vote.api.VoteRequest;
import dev.fenced.vote.ballot.VoteRecorder.Recorded;
import dev.fenced.vote.db.DbErrors;
import dev.fenced.vote.lock.LockMetrics;
import dev.fenced.vote.lock.VoteLocks;
import dev.fenced.vote.lock.VoteLocks.Held;
import dev.fenced.vote.poll.PollService;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Records a vote: take {@code vote:{poll}:{option}} through the poll's LockPolicy, then in one
 * transaction insert the ballot, read the counter and write it back plus one, fenced by the hold's
 * token; commit; release. Under a {@code Postgres/RowLock} policy the transaction is the lock's own
 * (release commits it); under every other policy it is a transaction from the service's pool.
 */
@ApplicationScoped
public class VoteService {

  private static final Logger LOG = Logger.getLogger(VoteService.class);

  private final PollService polls;
  private final VoteLocks locks;
  private final LockMetrics metrics;
  private final Pool pool;
  private final VoteRecorder recorder;
  private final Duration retryAfter;

  VoteService(
      PollService polls, VoteLocks locks, LockMetrics metrics, Pool pool, FencedConfig config) {
    this.polls = polls;
    this.locks = locks;
    this.metrics = metrics;
    this.pool = pool;
    this.recorder = new VoteRecorder(config.vote().statementTimeout());
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
              String lockName = "vote:" + poll + ":" + option;
              return locks
                  .acquire(lockName)
                  .flatMap(held -> record(held, poll, option, voter))
                  .map(r -> new VoteAnswer(poll, option, voter, r.count(), r.fence()));
            })
        .onItem()
        .invoke(() -> metrics.vote("recorded"))
        .onFailure()
        .transform(failure -> answerFor(Failures.unwrap(failure), poll, voter));
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

  private Uni<Recorded> record(Held held, String poll, String option, String voter) {
    if (held.handle() instanceof PgRowLockHandle row) {
      return onRowLock(held, row, poll, option, voter);
    }
    return Uni.createFrom()
        .completionStage(
            () ->
                pool.withTransaction(
                        conn -> recorder.record(conn, poll, option, voter, held.handle()))
                    .toCompletionStage())
        .onTermination()
        .call(() -> locks.release(held))
        .onFailure(StaleFenceException.class)
        .invoke(() -> metrics.fenceRejected(held.backend()));
  }

  /**
   * The lock's transaction is the vote's: its writes commit with the release and vanish with the
   * rollback, and no other holder can come between the read and the write.
   */
  private Uni<Recorded> onRowLock(
      Held held, PgRowLockHandle row, String poll, String option, String voter) {
    return Uni.createFrom()
        .completionStage(
            () -> recorder.record(row.connection(), poll, option, voter, row).toCompletionStage())
        .onFailure()
        .call(
            failure -> {
              if (Failures.unwrap(failure) instanceof StaleFenceException) {
                metrics.fenceRejected(held.backend());
              }
              return Uni.createFrom()
                  .completionStage(row::rollback)
                  .onItemOrFailure()
                  .transform((r, f) -> null);
            })
        .flatMap(
            recorded ->
                Uni.createFrom()
                    .completionStage(row::release)
                    .map(
                        released -> {
                          if (released == ReleaseResult.NOT_HELD) {
                            throw new LeaseLostException(row.name()); // rolled back, not committed
                          }
                          return recorded;
                        }))
        .onCancellation()
        .invoke(row::rollback)
        .onTermination()
        .invoke(() -> locks.ended(held));
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
    if (failure instanceof LeaseLostException e) {
      metrics.vote("lease_lost");
      return ProblemException.unavailable(e.getMessage(), retryAfter, e);
    }
    if (failure instanceof StaleFenceException e) {
      metrics.vote("fence_rejected");
      return ProblemException.unavailable(
          "a newer lock holder wrote the counter; this vote was rolled back", retryAfter, e);
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
