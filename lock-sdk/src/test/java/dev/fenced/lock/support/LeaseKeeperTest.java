package dev.fenced.lock.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LeaseKeeperTest {

  /**
   * Most of a keeper's tasks end cancelled (an acquire's deadline when it holds in time, a hold's
   * renewal when it is released first). A cancelled task left queued until its time would keep its
   * acquire or hold reachable: at a thousand holds a second and a 30 s deadline, tens of thousands.
   */
  @Test
  void aCancelledTaskLeavesTheQueueAtOnce() {
    try (LeaseKeeper keeper = new LeaseKeeper()) {
      List<ScheduledFuture<?>> tasks = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        tasks.add(keeper.schedule(() -> {}, TimeUnit.SECONDS.toNanos(30)));
      }
      assertThat(keeper.queued()).isEqualTo(1000);

      tasks.subList(0, 999).forEach(t -> t.cancel(false));

      assertThat(keeper.queued()).as("only the task still due").isEqualTo(1);
    }
  }
}
