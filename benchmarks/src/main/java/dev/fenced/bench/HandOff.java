package dev.fenced.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Hand-off latency: how long after the holder calls release the waiting thread holds the lock. Two
 * threads ping-pong one lock name; the holder waits until the other thread is about to wait, pauses
 * a few milliseconds so it really waits (subscribed, watching or polling), takes a timestamp and
 * releases; the waiter takes the lock and subtracts. So the figure includes the release call, the
 * wake-up (notification or poll) and the acquire that follows. Not JMH: JMH times whole methods,
 * and the span wanted here starts in one thread and ends in another.
 *
 * <p>{@code HandOff --out FILE [--rounds N] [--seconds S] [--pause-ms P] target...}
 */
public final class HandOff {

  private static final long STEP_TIMEOUT_S = 60;
  private static final int BLOCKS = 5;
  private static final int MIN_BLOCK = 20;

  private final LockTarget lock;
  private final String name = "bench-h-" + UUID.randomUUID();
  private final int rounds;
  private final long deadline;
  private final long pauseMs;
  private final Semaphore[] entering = {new Semaphore(0), new Semaphore(0)};
  private final Semaphore[] holds = {new Semaphore(0), new Semaphore(0)};
  private final List<Long> samples = new ArrayList<>();
  private volatile long releasedAt;
  private volatile boolean stop;

  private HandOff(LockTarget lock, int rounds, Duration limit, long pauseMs) {
    this.lock = lock;
    this.rounds = rounds;
    this.deadline = System.nanoTime() + limit.toNanos();
    this.pauseMs = pauseMs;
  }

  public static void main(String[] args) throws Exception {
    Path out = null;
    int rounds = 200;
    int warmup = 20;
    long seconds = 20;
    long pauseMs = 5;
    List<String> targets = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--out" -> out = Path.of(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Long.parseLong(args[++i]);
        case "--pause-ms" -> pauseMs = Long.parseLong(args[++i]);
        default -> targets.addAll(Arrays.asList(args[i].split(",")));
      }
    }
    if (out == null) {
      throw new IllegalArgumentException("--out FILE is required");
    }
    if (targets.isEmpty()) {
      Targets.all().stream()
          .filter(t -> t.kind() == Targets.Kind.FENCED || t.kind() == Targets.Kind.PEER)
          .forEach(t -> targets.add(t.id()));
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (String id : targets) {
      Targets.get(id); // fails fast on a typo, before any server is touched
      results.add(measure(id, rounds, warmup, Duration.ofSeconds(seconds), pauseMs));
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("measuredAt", Instant.now().toString());
    doc.put("rounds", rounds);
    doc.put("warmupRounds", warmup);
    doc.put("secondsPerTarget", seconds);
    doc.put("pauseBeforeReleaseMs", pauseMs);
    doc.put("results", results);
    Files.createDirectories(out.toAbsolutePath().getParent());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), doc);
    System.exit(0);
  }

  private static Map<String, Object> measure(
      String id, int rounds, int warmup, Duration limit, long pauseMs) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("target", id);
    try (LockTarget lock = Targets.open(id)) {
      new HandOff(lock, warmup, limit, pauseMs).run();
      List<Long> samples = new HandOff(lock, rounds, limit, pauseMs).run();
      long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
      result.put("n", sorted.length);
      result.put("p50Ms", ms(percentile(sorted, 0.50)));
      result.put("p90Ms", ms(percentile(sorted, 0.90)));
      result.put("p99Ms", ms(percentile(sorted, 0.99)));
      result.put("maxMs", ms(sorted[sorted.length - 1]));
      result.put("meanMs", ms((long) Arrays.stream(sorted).average().orElse(0)));
      // The p50 of each consecutive block of rounds: their spread is the p50's error bar.
      List<Double> blocks = new ArrayList<>();
      int size = samples.size() / BLOCKS;
      for (int b = 0; size >= MIN_BLOCK && b < BLOCKS; b++) {
        long[] block =
            samples.subList(b * size, (b + 1) * size).stream()
                .mapToLong(Long::longValue)
                .sorted()
                .toArray();
        blocks.add(ms(percentile(block, 0.50)));
      }
      result.put("p50ByBlockMs", blocks);
      System.out.printf(
          Locale.ROOT,
          "hand-off %-24s n=%4d p50=%8.3f ms p99=%8.3f ms%n",
          id,
          sorted.length,
          result.get("p50Ms"),
          result.get("p99Ms"));
    } catch (Exception | AssertionError e) {
      result.put("error", e.toString());
      System.out.printf(Locale.ROOT, "hand-off %-24s failed: %s%n", id, e);
    }
    return result;
  }

  private static long percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1_000.0) / 1_000.0;
  }

  private List<Long> run() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> daemon(r));
    try {
      Future<?> first = pool.submit(() -> play(0));
      Future<?> second = pool.submit(() -> play(1));
      long budget = TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()) + STEP_TIMEOUT_S;
      first.get(budget, TimeUnit.SECONDS);
      second.get(budget, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    if (samples.isEmpty()) {
      throw new IllegalStateException("no hand-off completed");
    }
    return samples;
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "hand-off");
    t.setDaemon(true);
    return t;
  }

  /** One side of the ping-pong; thread 0 starts as the holder. */
  private Void play(int me) throws Exception {
    int other = 1 - me;
    Object hold = null;
    boolean holding = me == 0;
    if (holding) {
      hold = lock.acquire(name);
      holds[0].release();
    }
    while (true) {
      if (holding) {
        step(entering[other]);
        if (stop) {
          lock.release(hold);
          return null;
        }
        Thread.sleep(pauseMs);
        releasedAt = System.nanoTime();
        lock.release(hold);
        holding = false;
      } else {
        step(holds[other]);
        if (stop) {
          entering[me].release();
          return null;
        }
        entering[me].release();
        hold = lock.acquire(name);
        long now = System.nanoTime();
        samples.add(now - releasedAt);
        if (samples.size() >= rounds || now > deadline) {
          stop = true;
        }
        holds[me].release();
        holding = true;
      }
    }
  }

  private static void step(Semaphore semaphore) throws Exception {
    if (!semaphore.tryAcquire(STEP_TIMEOUT_S, TimeUnit.SECONDS)) {
      throw new TimeoutException("the other thread did not move for " + STEP_TIMEOUT_S + " s");
    }
  }
}
