package dev.fenced.lock.postgres;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.contract.TestServers;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import java.sql.Connection;
import java.sql.PreparedStatement;

/** The shared contract on the real PostgreSQL, for one mode; restarts go through the script. */
abstract class PgLockServiceContract extends LockServiceContract {

  protected abstract PostgresMode mode();

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return PostgresLockService.create(
        PgTestSupport.VERTX, PgTestSupport.config(mode()), settings, keeper);
  }

  @Override
  protected void stopBackend() {
    PgTestSupport.stopBackend();
  }

  @Override
  protected void startBackend() {
    PgTestSupport.startBackend();
  }

  /** A pinned hold's session is ended; a lock-table row is given to another owner. */
  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) throws Exception {
    if (holder instanceof PinnedConnectionHandle pinned) {
      PgTestSupport.terminate(pinned.backendPid());
      return;
    }
    try (Connection c = TestServers.jdbc();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE "
                    + PgLockTableLockService.TABLE
                    + " SET owner = 'someone-else' WHERE resource = ?")) {
      s.setString(1, holder.name());
      s.executeUpdate();
    }
  }
}
