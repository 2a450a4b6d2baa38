package dev.fenced.lock.postgres;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;

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
}
