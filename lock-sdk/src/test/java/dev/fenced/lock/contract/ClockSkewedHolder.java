package dev.fenced.lock.contract;

import dev.fenced.lock.LockException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.fencing.Fence;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lock holder in its own JVM, started by {@link ClockIT} under libfaketime so that its clocks
 * lie: the wall clock jumps, or every clock runs fast. For each backend it takes the lock over and
 * over and increments that backend's {@link FencedCounter} by claim, read, pause, write; it keeps
 * its own count of what storage accepted and refused.
 *
 * <p>Arguments: secrets folder, then one {@code backend=lockName} per backend. Prints {@code READY}
 * once every service is provisioned, starts its holders on a {@code go} line, answers a {@code
 * mark} line with its clocks ({@code MARK wall mono}), runs until a {@code stop} line or the end of
 * its input, then prints one {@code RESULT} line per backend and a {@code CLOCK} line: the spread
 * of wall minus monotonic time it saw (a wall-clock jump shows here) and both clocks at the end.
 */
public final class ClockSkewedHolder {

  private ClockSkewedHolder() {}

  /** The holder loop for one backend; the test's own JVM runs the same loop. */
  static final class Worker implements Runnable {

    final String backend;
    final String lockName;
    private final LockService service;
    private final FencedCounter counter;
    private volatile boolean stop;
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong plainWrites = new AtomicLong();
    final AtomicLong lockErrors = new AtomicLong();

    /**
     * Writes only one store took: the hold ended between the two (a stall); each store is right.
     */
    final AtomicLong pgOnly = new AtomicLong();

    final AtomicLong redisOnly = new AtomicLong();
    final AtomicLong lostHolds = new AtomicLong();

    Worker(String backend, String lockName, LockService service, FencedCounter counter) {
      this.backend = backend;
      this.lockName = lockName;
      this.service = service;
      this.counter = counter;
    }

    void stop() {
      stop = true;
    }

    @Override
    public void run() {
      while (!stop) {
        LockHandle hold;
        try {
          hold = service.acquireBlocking(lockName, Duration.ofSeconds(2));
        } catch (LockException e) {
          lockErrors.incrementAndGet();
          continue;
        }
        try {
          criticalSection(hold);
        } catch (Exception e) {
          lockErrors.incrementAndGet();
        } finally {
          try {
            LockService.await(hold.release());
          } catch (LockException e) {
            lockErrors.incrementAndGet();
          }
        }
      }
    }

    private void criticalSection(LockHandle hold) throws Exception {
      Fence fence = Fence.of(hold);
      if (!counter.claim(fence).both()) {
        refused.incrementAndGet();
        return;
      }
      long read = counter.value();
      long plainRead = counter.plainValue();
      Thread.sleep(ThreadLocalRandom.current().nextLong(10, 60));
      if (!hold.isHeld()) {
        lostHolds.incrementAndGet();
        return;
      }
      // The unfenced row trusts the lock alone: exact only while no two holders overlap.
      counter.plainWrite(plainRead + 1);
      plainWrites.incrementAndGet();
      FencedCounter.Accepted written = counter.write(read + 1, fence);
      if (written.both()) {
        accepted.incrementAndGet();
      } else if (written.neither()) {
        refused.incrementAndGet();
      } else if (written.postgres()) {
        pgOnly.incrementAndGet();
      } else {
        redisOnly.incrementAndGet();
      }
    }

    String result() {
      return "RESULT "
          + backend
          + " accepted="
          + accepted
          + " refused="
          + refused
          + " plainWrites="
          + plainWrites
          + " lockErrors="
          + lockErrors
          + " pgOnly="
          + pgOnly
          + " redisOnly="
          + redisOnly
          + " lostHolds="
          + lostHolds;
    }
  }

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable e) {
      // Vert.x threads would keep a failed JVM alive: say why, and go.
      e.printStackTrace(System.out);
      System.out.flush();
      System.exit(1);
    }
  }

  /**
   * Builds the service, retrying: under a doubled clock the client's own connect and request
   * timeouts run out twice as fast, and a busy machine can miss them while the JVM starts.
   */
  private static ManagedLockService service(Vertx vertx, Path secrets, String backend, String name)
      throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return TestPolicies.create(vertx, secrets, ClockIT.policy(backend, name));
      } catch (RuntimeException e) {
        if (attempt == 5) {
          throw e;
        }
        System.out.println("retrying " + backend + " after: " + e);
        Thread.sleep(500);
      }
    }
  }

  private static void run(String[] args) throws Exception {
    Path secrets = Path.of(args[0]);
    Vertx vertx = Vertx.vertx();
    List<Worker> workers = new ArrayList<>();
    List<AutoCloseable> closing = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String[] pair = args[i].split("=", 2);
      ManagedLockService service = service(vertx, secrets, pair[0], pair[1]);
      FencedCounter counter = FencedCounter.existing(vertx, pair[1]);
      closing.add(service);
      closing.add(counter);
      workers.add(new Worker(pair[0], pair[1], service, counter));
    }
    long[] offsetRange = {Long.MAX_VALUE, Long.MIN_VALUE};
    Thread sampler =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                long offset =
                    System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
                synchronized (offsetRange) {
                  offsetRange[0] = Math.min(offsetRange[0], offset);
                  offsetRange[1] = Math.max(offsetRange[1], offset);
                }
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sampler.setDaemon(true);
    sampler.start();
    System.out.println("READY " + System.currentTimeMillis() + " " + System.nanoTime());
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<Thread> threads = new ArrayList<>();
    String line;
    while ((line = in.readLine()) != null && !line.strip().equals("stop")) {
      switch (line.strip()) {
        case "go" -> {
          for (Worker w : workers) {
            Thread t = new Thread(w, "holder-" + w.backend);
            t.start();
            threads.add(t);
          }
        }
        case "mark" -> {
          System.out.println("MARK " + System.currentTimeMillis() + " " + System.nanoTime());
          System.out.flush();
        }
        default -> {}
      }
    }
    long endWall = System.currentTimeMillis();
    long endMono = System.nanoTime();
    workers.forEach(Worker::stop);
    for (Thread t : threads) {
      t.join(30_000);
    }
    sampler.interrupt();
    for (Worker w : workers) {
      System.out.println(w.result());
    }
    synchronized (offsetRange) {
      System.out.println(
          "CLOCK offsetMinMs="
              + offsetRange[0]
              + " offsetMaxMs="
              + offsetRange[1]
              + " wall="
              + endWall
              + " mono="
              + endMono);
    }
    System.out.flush();
    for (int i = closing.size() - 1; i >= 0; i--) {
      try {
        closing.get(i).close();
      } catch (Exception e) {
        // exiting anyway
      }
    }
    vertx.close();
    System.exit(0);
  }
}
