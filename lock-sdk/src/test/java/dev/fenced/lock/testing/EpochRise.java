package dev.fenced.lock.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.policy.PolicyLocks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the holds of one lock name saw after a backend incident that restarted its fencing counter:
 * the tokens granted, how many came at the old epoch before the rise, and when the first came at a
 * higher epoch. Shared by the incident tests of the services' own check and of the operator.
 *
 * @param after every token granted after the incident, in order
 * @param oldEpochHolds holds granted at the old epoch (or below) before the first at a higher one
 * @param millisToNewEpoch from the incident to the first hold at a higher epoch; -1 if none came
 */
public record EpochRise(List<Long> after, int oldEpochHolds, long millisToNewEpoch) {

  /**
   * Acquires and releases {@code name} until a hold comes at an epoch above {@code epoch}, or
   * {@code limit} passes since {@code incidentNanos}. Refusals ({@link LockException}: held back
   * while the epoch rises, or the backend still coming back) are tried again.
   */
  public static EpochRise watch(
      PolicyLocks locks, String name, long epoch, long incidentNanos, Duration limit) {
    List<Long> after = new ArrayList<>();
    int oldEpochHolds = 0;
    while (System.nanoTime() - incidentNanos < limit.toNanos()) {
      long token;
      try {
        token = cycle(locks, name);
      } catch (LockException e) {
        continue;
      }
      after.add(token);
      if (FencingTokens.epoch(token) > epoch) {
        return new EpochRise(after, oldEpochHolds, (System.nanoTime() - incidentNanos) / 1_000_000);
      }
      oldEpochHolds++;
    }
    return new EpochRise(after, oldEpochHolds, -1);
  }

  /** One hold of {@code name} (waiting the policy's maxWait), released at once; its token. */
  public static long cycle(PolicyLocks locks, String name) {
    LockHandle h = LockService.await(locks.acquire(name));
    long token = h.fencingToken();
    LockService.await(h.release());
    return token;
  }

  /**
   * Takes {@code more} further holds, then asserts that the first hold at the new epoch and those
   * after it all carry tokens above {@code before} (the last token before the incident), at an
   * epoch above {@code epoch}, rising, none repeated. Fails if no hold at a higher epoch came.
   */
  public List<Long> assertRoseAbove(
      PolicyLocks locks, String name, long before, long epoch, int more) {
    assertThat(millisToNewEpoch).as("a hold at a higher epoch came").isNotNegative();
    List<Long> tokens = new ArrayList<>(after.subList(after.size() - 1, after.size()));
    for (int i = 0; i < more; i++) {
      tokens.add(cycle(locks, name));
    }
    assertThat(tokens)
        .as("after the rise, every token is above every token before the incident")
        .allSatisfy(t -> assertThat(t).isGreaterThan(before))
        .allSatisfy(t -> assertThat(FencingTokens.epoch(t)).isGreaterThan(epoch))
        .isSorted()
        .doesNotHaveDuplicates();
    return tokens;
  }

  /** {@code epoch/counter}, for the printed report. */
  public static String describe(long token) {
    return FencingTokens.epoch(token) + "/" + FencingTokens.counter(token);
  }

  /** Every token granted after the incident, described. */
  public List<String> described() {
    return after.stream().map(EpochRise::describe).toList();
  }
}
