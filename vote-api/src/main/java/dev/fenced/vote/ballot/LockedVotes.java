package dev.fenced.vote.ballot;

import dev.fenced.lock.fencing.Fence;
import dev.fenced.lock.fencing.StaleFenceException;
import dev.fenced.lock.none.NoLockService;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import dev.fenced.lock.sql.HeldTransactions;
import dev.fenced.lock.support.Combiner;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.vote.FencedConfig;
import dev.fenced.vote.lock.LockMetrics;
import dev.fenced.vote.lock.VoteLocks;
import dev.fenced.vote.lock.VoteLocks.Held;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Votes counted under the lock {@code vote:{poll}:{option}}, combined: the votes of one poll and
 * option queued in this replica share one hold (lock-sdk's {@link Combiner}), and each hold runs
 * one transaction for its whole batch ({@link VoteSql#RECORD_BATCH}) through {@link
 * HeldTransactions}, in the lock's own transaction under Postgres RowLock and in a pool transaction
 * elsewhere. One acquire, one statement, one commit, one release per batch; a batch that fails
 * (stale fence, lost hold, database error) keeps nothing and fails every vote in it. A hold still
 * held when its batch commits serves the votes queued meanwhile as its next batch, up to {@code
 * fenced.vote.combining.max-batches-per-hold} batches, before it is released.
 */
@ApplicationScoped
public class LockedVotes {

  /** A vote waiting for a hold, with the policy resolved for it. */
  record Pending(String poll, String option, String voter, ActivePolicy policy) {}

  private final VoteLocks locks;
  private final LockMetrics metrics;
  private final HeldTransactions transactions;
  private final Combiner<Held, Pending, Outcome> combiner;

  LockedVotes(
      VoteLocks locks, LockMetrics metrics, Pool pool, LeaseKeeper timer, FencedConfig config) {
    this.locks = locks;
    this.metrics = metrics;
    this.transactions = new HeldTransactions(pool, config.vote().statementTimeout());
    this.combiner =
        new Combiner<>(
            (name, head, maxWait) -> locks.acquire(head.policy(), name, maxWait),
            this::record,
            locks::release,
            config.vote().combining().batchLimit(),
            config.vote().combining().holdLimit(),
            LockedVotes::servesAnotherBatch,
            timer);
  }

  /**
   * Queues the vote for a hold of its option's lock, through {@code policy}, waiting at most the
   * policy's {@code maxWait}.
   */
  CompletableFuture<Outcome> vote(ActivePolicy policy, String poll, String option, String voter) {
    String name = lockName(poll, option);
    // Two polls can share a lock name (poll "a:b" option "c", poll "a" option "b:c"); a batch never
    // mixes them. Ids hold no control characters, so a newline keeps the pair apart.
    return combiner.submit(
        name,
        poll + "\n" + option,
        new Pending(poll, option, voter, policy),
        policy.settings().maxWait());
  }

  /** How many votes of this option's lock are queued in this replica, not yet in a batch. */
  public int queued(String poll, String option) {
    return combiner.queued(lockName(poll, option));
  }

  /**
   * Whether a hold may run one more batch after the one it runs: while it is held, unless its
   * commit ends it (Postgres RowLock, where the next batch's acquire waits on the row instead) or
   * it excludes nobody (policy {@code None}, whose batches are meant to overlap).
   */
  private static boolean servesAnotherBatch(Held held) {
    return !NoLockService.BACKEND.equals(held.backend())
        && !HeldTransactions.commitEndsHold(held.handle())
        && held.handle().isHeld();
  }

  static String lockName(String poll, String option) {
    return "vote:" + poll + ":" + option;
  }

  private CompletionStage<List<Outcome>> record(Held held, List<Pending> votes) {
    held.served(votes.size());
    Pending first = votes.get(0);
    Fence fence = Fence.of(held.handle());
    String[] voters = votes.stream().map(Pending::voter).toArray(String[]::new);
    Tuple params = Tuple.of(first.poll(), first.option(), voters, fence.token(), fence.holder());
    String statement =
        NoLockService.BACKEND.equals(held.backend())
            ? VoteSql.RECORD_BATCH_UNLOCKED
            : VoteSql.RECORD_BATCH;
    return transactions
        .run(
            held.handle(),
            conn ->
                conn.preparedQuery(statement)
                    .execute(params)
                    .map(rows -> outcomes(rows, votes, fence.token())))
        .whenComplete(
            (outcomes, failure) -> {
              if (failure != null && Failures.unwrap(failure) instanceof StaleFenceException) {
                metrics.fenceRejected(held.backend());
              }
            });
  }

  /**
   * One outcome per vote, in order: the voters inserted count up from the counter read, each its
   * own position; a voter not inserted (voted before, or twice in this batch) is a duplicate.
   *
   * @throws StaleFenceException when ballots were inserted but the fence refused the counter write:
   *     the transaction is rolled back, so nothing of the batch is kept
   */
  private static List<Outcome> outcomes(RowSet<Row> rows, List<Pending> votes, long token) {
    Row row = rows.iterator().next();
    Long read = row.getLong("read");
    if (read == null) {
      throw new IllegalStateException(
          "poll '"
              + votes.get(0).poll()
              + "' has no counter row for option '"
              + votes.get(0).option()
              + "'");
    }
    Set<String> inserted = new HashSet<>(Arrays.asList(row.getArrayOfStrings("inserted")));
    if (!inserted.isEmpty() && !row.getBoolean("written")) {
      VoteSql.WRITE_COUNT.requireApplied(0, token);
    }
    List<Outcome> outcomes = new ArrayList<>(votes.size());
    long count = read;
    for (Pending vote : votes) {
      if (inserted.remove(vote.voter())) {
        outcomes.add(Outcome.recorded(++count, token));
      } else {
        outcomes.add(Outcome.DUPLICATE);
      }
    }
    return outcomes;
  }
}
