package dev.fenced.operator;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Failed passes in a row, by policy uid, and the exponential back-off they earn. */
final class Backoff {

  private final Duration initial;
  private final Duration max;
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  Backoff(Duration initial, Duration max) {
    this.initial = initial;
    this.max = max;
  }

  /** One more failure of {@code uid}: the delay before the next try. */
  Duration failed(String uid) {
    return after(failures.merge(uid, 1, Integer::sum));
  }

  /** A pass that succeeded, or that only a spec change can fix, starts the count again. */
  void reset(String uid) {
    failures.remove(uid);
  }

  /** The delay after {@code failuresInARow} failures: initial, doubling, capped. */
  Duration after(int failuresInARow) {
    long millis = initial.toMillis() << Math.min(failuresInARow - 1, 20);
    return Duration.ofMillis(Math.min(millis, max.toMillis()));
  }
}
