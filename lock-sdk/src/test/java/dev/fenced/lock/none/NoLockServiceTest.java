package dev.fenced.lock.none;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.LockSettings;
import dev.fenced.lock.contract.CombinedCounterWorkload;
import dev.fenced.lock.contract.CounterWorkload;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same workload the contract runs under every real lock, here without one: updates are lost.
 */
class NoLockServiceTest {

  @Test
  void withoutALockTheReadThenWriteCounterLosesUpdates() throws Exception {
    LockSettings settings = LockSettings.DEFAULTS.withFencing(LockSettings.Fencing.OPTIONAL);
    try (NoLockService a = new NoLockService(settings);
        NoLockService b = new NoLockService(settings)) {
      long total =
          CounterWorkload.run(List.of(a, b), "none:counter", 8, 500, Duration.ofSeconds(1));
      System.out.printf("without a lock: %d of %d increments survived%n", total, 8 * 500);
      assertThat(total).as("8 x 500 unlocked increments").isLessThan(8 * 500);
    }
  }

  @Test
  void withoutALockCombinedBatchesLoseUpdatesToo() throws Exception {
    LockSettings settings = LockSettings.DEFAULTS.withFencing(LockSettings.Fencing.OPTIONAL);
    try (NoLockService a = new NoLockService(settings);
        NoLockService b = new NoLockService(settings)) {
      CombinedCounterWorkload.Result result =
          CombinedCounterWorkload.run(
              List.of(a, b), "none:combined", 16, 25, 32, Duration.ofSeconds(1));
      System.out.printf(
          "without a lock, combined: %d of %d increments survived%n",
          result.value(), result.requests());
      assertThat(result.value()).isLessThan(result.requests());
    }
  }

  @Test
  void everyAcquireSucceedsAtOnceWithTheEpochsFirstToken() {
    LockSettings settings = LockSettings.DEFAULTS.withEpoch(3);
    try (NoLockService service = new NoLockService(settings)) {
      var first = service.acquireBlocking("x", Duration.ZERO);
      var second = service.acquireBlocking("x", Duration.ZERO);
      assertThat(first.isHeld()).isTrue();
      assertThat(second.isHeld()).isTrue();
      assertThat(second.fencingToken()).isEqualTo(first.fencingToken()).isEqualTo(3L << 43);
    }
  }
}
