package dev.fenced.lock.contract;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Workers that each increment one PostgreSQL counter by read-then-write under a lock, spread over
 * several lock services as over several processes. The lock is all that keeps the total exact.
 */
public final class CounterWorkload {

  private CounterWorkload() {}

  /** Runs the workload and returns the counter's final value. */
  public static long run(
      List<? extends LockService> services,
      String lockName,
      int workers,
      int incrementsPerWorker,
      Duration maxWait)
      throws Exception {
    PgCounter counter = new PgCounter(lockName);
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        LockService service = services.get(w % services.size());
        done.add(
            pool.submit(
                () -> {
                  try (Connection c = TestServers.jdbc()) {
                    for (int i = 0; i < incrementsPerWorker; i++) {
                      LockHandle handle = service.acquireBlocking(lockName, maxWait);
                      try {
                        counter.increment(c);
                      } finally {
                        LockService.await(handle.release());
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    return counter.value();
  }
}
