package dev.fenced.vote.ballot;

import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;

/**
 * Votes counted without any lock: one statement inserts the ballot and increments the counter in
 * the database ({@code count = count + 1}), one round trip, one transaction. The baseline the lock
 * policies are measured against: correct, because the database serialises the increment on the
 * counter's row, and the fastest way to count when counting is all that needs protecting. Its
 * answers carry fence 0: no hold, no token.
 */
@ApplicationScoped
class AtomicVotes {

  private final Pool pool;

  AtomicVotes(Pool pool) {
    this.pool = pool;
  }

  CompletionStage<Outcome> vote(String poll, String option, String voter) {
    return pool.preparedQuery(VoteSql.RECORD_ATOMIC)
        .execute(Tuple.of(poll, option, voter))
        .map(
            rows ->
                rows.size() == 0
                    ? Outcome.DUPLICATE
                    : Outcome.recorded(rows.iterator().next().getLong(0), 0))
        .toCompletionStage();
  }
}
