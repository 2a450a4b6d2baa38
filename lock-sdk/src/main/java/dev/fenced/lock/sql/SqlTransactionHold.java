package dev.fenced.lock.sql;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.ReleaseResult;
import io.vertx.sqlclient.SqlConnection;
import java.util.concurrent.CompletionStage;

/**
 * A hold that is itself an open SQL transaction (PostgreSQL RowLock: {@code SELECT ... FOR UPDATE}
 * in a transaction that lasts as long as the hold). Statements run on {@link #connection()} belong
 * to that transaction: {@link #release()} commits them together with the end of the hold, {@link
 * #rollback()} discards them, and no other holder can come between them.
 *
 * <p>Services need not know which holds are of this kind: {@link HeldTransactions} runs a
 * transaction under any hold, in the hold's own transaction where there is one.
 */
public interface SqlTransactionHold extends LockHandle {

  /**
   * The connection whose transaction is the hold. Do not issue {@code BEGIN}, {@code COMMIT} or
   * {@code ROLLBACK} on it, and do not close it; a statement that fails aborts the transaction, and
   * then only {@link #rollback()} is left.
   */
  SqlConnection connection();

  /**
   * Commits the transaction, the caller's statements with it, and so ends the hold. {@link
   * ReleaseResult#NOT_HELD} when the hold had already ended: then nothing was committed.
   */
  @Override
  CompletionStage<ReleaseResult> release();

  /** Rolls the transaction back, discarding the caller's statements, and so ends the hold. */
  CompletionStage<ReleaseResult> rollback();
}
