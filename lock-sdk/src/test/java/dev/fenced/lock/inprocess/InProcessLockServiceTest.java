package dev.fenced.lock.inprocess;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;

class InProcessLockServiceTest extends LockServiceContract {

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return new InProcessLockService(settings, keeper);
  }
}
