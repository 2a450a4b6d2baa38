package dev.fenced.vote.ballot;

import dev.fenced.lock.fencing.FencedUpdate;
import java.util.List;

/**
 * The statements of the vote path. Each is one statement, so each costs one round trip; the locked
 * batch's runs inside the transaction {@code HeldTransactions} opens under the hold (in the lock's
 * own transaction under Postgres RowLock), the atomic one commits on its own.
 */
final class VoteSql {

  private VoteSql() {}

  /**
   * The counter write, fenced by the hold's token and identity: {@code UPDATE counters SET count =
   * …, ballots = …, fence = $4, fence_holder = $5 WHERE poll_id = $1 AND option = $2 AND (fence <
   * $4 OR (fence = $4 AND (fence_holder = $5 OR fence_holder IS NULL)))}: a newer hold, or the same
   * one.
   */
  static final FencedUpdate WRITE_COUNT =
      FencedUpdate.table("counters")
          .set("count", "ballots")
          .where("poll_id", "option")
          .fence("fence", "fence_holder");

  /**
   * A locked batch, all of one poll and option ($1, $2), in one statement: insert the voters ($3,
   * {@code text[]}) that have no ballot in the poll yet; read the counter; write back {@code read +
   * inserted}, fenced by the hold ($4 token, $5 holder), and add the inserted ballots to the
   * option's ballot count. Answers the count read, the voters inserted, and whether the write
   * passed the fence (no write when nothing was inserted).
   *
   * <p>The read takes the counter row ({@code FOR UPDATE}) before it reads, so it sees the last
   * committed count, not the statement's snapshot. The fence alone does not cover a
   * read-modify-write: a paused older holder whose transaction commits while this one waits on the
   * row passes its own fence check (nobody newer has written yet), and a snapshot read would then
   * write {@code its read + inserted} over that commit, losing its votes. With the row taken, an
   * older write either committed first and is read, or comes after and meets this hold's fence.
   * Under a working lock nobody else touches the row, so the row lock is never waited for.
   */
  static final String RECORD_BATCH = recordBatch(" FOR UPDATE");

  /**
   * The same batch with the counter read from the statement's snapshot: policy {@code None}, the
   * no-lock baseline. Two batches that run at once both write {@code their read + theirs} and one
   * of them is lost, the race the lock exists to prevent. {@code ballots = ballots + n} is an
   * atomic increment instead (PostgreSQL re-reads the row it waited for), so the ballot count stays
   * exact under every policy.
   */
  static final String RECORD_BATCH_UNLOCKED = recordBatch("");

  private static String recordBatch(String readLock) {
    return "WITH inserted AS ("
        + "INSERT INTO ballots (poll_id, voter, option)"
        + " SELECT $1, voter, $2 FROM unnest($3::text[]) AS voter"
        + " ON CONFLICT (poll_id, voter) DO NOTHING RETURNING voter),"
        + " read AS (SELECT count FROM counters WHERE poll_id = $1 AND option = $2"
        + readLock
        + "),"
        + " written AS ("
        + WRITE_COUNT.sqlWith(
            List.of(
                "(SELECT count FROM read) + (SELECT count(*) FROM inserted)",
                "ballots + (SELECT count(*) FROM inserted)"),
            List.of("$1", "$2"),
            "$4",
            "$5")
        + " AND EXISTS (SELECT 1 FROM inserted) RETURNING 1)"
        + " SELECT (SELECT count FROM read) AS read,"
        + " ARRAY(SELECT voter FROM inserted) AS inserted,"
        + " EXISTS (SELECT 1 FROM written) AS written";
  }

  /**
   * The no-lock baseline ($1 poll, $2 option, $3 voter): insert the ballot and, if it was new,
   * {@code count = count + 1} (and the ballot count), one statement, one transaction. No row
   * answered: the voter had voted.
   */
  static final String RECORD_ATOMIC =
      "WITH inserted AS ("
          + "INSERT INTO ballots (poll_id, voter, option) VALUES ($1, $3, $2)"
          + " ON CONFLICT (poll_id, voter) DO NOTHING RETURNING 1)"
          + " UPDATE counters SET count = count + 1, ballots = ballots + 1"
          + " WHERE poll_id = $1 AND option = $2 AND EXISTS (SELECT 1 FROM inserted)"
          + " RETURNING count";

  /** Whether the voter ($2) has a ballot in the poll ($1) already: a read, no lock. */
  static final String HAS_VOTED =
      "SELECT EXISTS (SELECT 1 FROM ballots WHERE poll_id = $1 AND voter = $2)";
}
