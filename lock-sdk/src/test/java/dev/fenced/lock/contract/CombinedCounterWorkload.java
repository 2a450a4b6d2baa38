package dev.fenced.lock.contract;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.support.Combiner;
import dev.fenced.lock.support.LeaseKeeper;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link CounterWorkload} with combining: callers of each lock service (one service per process)
 * queue through a {@link Combiner}, and each hold adds its batch's size to the PostgreSQL counter
 * by one read-then-write. The lock is all that keeps the total exact; the number of holds shows how
 * many callers each one served.
 */
public final class CombinedCounterWorkload {

  /** The counter's final value and the number of holds (batches) that wrote it. */
  public record Result(long value, int holds, int requests) {}

  private CombinedCounterWorkload() {}

  public static Result run(
      List<? extends LockService> services,
      String lockName,
      int callers,
      int requestsPerCaller,
      int maxBatch,
      Duration maxWait)
      throws Exception {
    PgCounter counter = new PgCounter(lockName);
    AtomicInteger holds = new AtomicInteger();
    ExecutorService writers = Executors.newFixedThreadPool(services.size() * 2);
    ThreadLocal<Connection> connections = new ThreadLocal<>();
    List<Connection> opened = new ArrayList<>();
    LeaseKeeper timer = new LeaseKeeper();
    List<Combiner<LockHandle, Integer, Long>> combiners = new ArrayList<>();
    for (LockService service : services) {
      combiners.add(
          Combiner.onLocks(
              service,
              (hold, batch) ->
                  CompletableFuture.supplyAsync(
                      () -> {
                        holds.incrementAndGet();
                        try {
                          counter.add(connection(connections, opened), batch.size());
                        } catch (SQLException e) {
                          throw new IllegalStateException(e);
                        }
                        return batch.stream().map(Integer::longValue).toList();
                      },
                      writers),
              maxBatch,
              timer));
    }
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < callers; w++) {
        Combiner<LockHandle, Integer, Long> combiner = combiners.get(w % combiners.size());
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < requestsPerCaller; i++) {
                    combiner.submit(lockName, i, maxWait).get(10, TimeUnit.MINUTES);
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
      writers.shutdownNow();
      writers.awaitTermination(10, TimeUnit.SECONDS);
      timer.close();
      synchronized (opened) {
        for (Connection c : opened) {
          c.close();
        }
      }
    }
    return new Result(counter.value(), holds.get(), callers * requestsPerCaller);
  }

  private static Connection connection(ThreadLocal<Connection> connections, List<Connection> all)
      throws SQLException {
    Connection c = connections.get();
    if (c == null) {
      c = TestServers.jdbc();
      connections.set(c);
      synchronized (all) {
        all.add(c);
      }
    }
    return c;
  }
}
