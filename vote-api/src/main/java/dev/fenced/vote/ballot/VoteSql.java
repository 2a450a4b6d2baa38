package dev.fenced.vote.ballot;

import dev.fenced.lock.fencing.FencedUpdate;

/**
 * The statements of the vote transaction. The same statements run in the service's own pooled
 * transaction and, under a {@code Postgres/RowLock} policy, on the lock's connection inside the
 * lock's transaction; {@link VoteRecorder} is the one place that runs them.
 */
final class VoteSql {

  private VoteSql() {}

  /** Local to the transaction: the server cancels a statement that runs longer (SQLSTATE 57014). */
  static final String STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', $1, true)";

  /** No row inserted means this voter has voted in this poll already. */
  static final String INSERT_BALLOT =
      "INSERT INTO ballots (poll_id, voter, option) VALUES ($1, $2, $3)"
          + " ON CONFLICT (poll_id, voter) DO NOTHING";

  /**
   * Read, then write back plus one: a read-modify-write on purpose, which only the lock keeps
   * correct (the race the project shows).
   */
  static final String READ_COUNT = "SELECT count FROM counters WHERE poll_id = $1 AND option = $2";

  /**
   * {@code UPDATE counters SET count = $1, fence = $2, fence_holder = $3 WHERE poll_id = $4 AND
   * option = $5 AND (fence < $2 OR (fence = $2 AND (fence_holder = $3 OR fence_holder IS NULL)))}:
   * a newer hold, or the same one.
   */
  static final FencedUpdate WRITE_COUNT =
      FencedUpdate.table("counters")
          .set("count")
          .where("poll_id", "option")
          .fence("fence", "fence_holder");
}
