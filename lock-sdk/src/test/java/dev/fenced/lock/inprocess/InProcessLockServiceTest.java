package dev.fenced.lock.inprocess;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.LockServiceContract;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.LeaseKeeper;
import java.lang.reflect.Field;
import java.util.Map;

class InProcessLockServiceTest extends LockServiceContract {

  @Override
  protected AbstractLockService createService(LockSettings settings, LeaseKeeper keeper) {
    return new InProcessLockService(settings, keeper);
  }

  /** Nothing outside the JVM holds the table: reach into it as another holder's takeover would. */
  @Override
  protected void takeAway(AbstractLockService service, LockHandle holder) throws Exception {
    Field slots = InProcessLockService.class.getDeclaredField("SLOTS");
    slots.setAccessible(true);
    Object slot = ((Map<?, ?>) slots.get(null)).get(holder.name());
    Field owner = slot.getClass().getDeclaredField("owner");
    owner.setAccessible(true);
    synchronized (slot) {
      owner.set(slot, "someone-else");
    }
  }
}
