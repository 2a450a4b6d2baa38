package dev.fenced.bench;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Acquire+release cycles of an empty critical section, for every {@link Targets target} on the same
 * servers: {@code uncontended} (4 threads, each its own lock name) and {@code contended} (8 threads
 * on one name). Throughput gives cycles per second; SampleTime gives the latency percentiles of one
 * cycle (for contended, that includes waiting for the other 7). Defaults are for a short run on a
 * shared 2-core machine; {@code scripts/bench.sh} sets the real ones.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 1, time = 3)
@State(Scope.Benchmark)
public class LockCycles {

  @Param({
    "fenced-inprocess",
    "jdk-reentrantlock",
    "fenced-redis",
    "redisson-rlock",
    "redisson-fencedlock",
    "limit-redis",
    "nolock-redis-incr",
    "fenced-pg-locktable",
    "fenced-pg-rowlock",
    "fenced-pg-advisory",
    "spring-jdbc",
    "limit-pg",
    "nolock-pg-update",
    "fenced-etcd",
    "jetcd-lock",
    "limit-etcd",
    "fenced-zookeeper",
    "curator-mutex",
    "limit-zookeeper",
    "fenced-lease",
    "fabric8-leaderelector",
    "limit-lease"
  })
  public String target;

  private LockTarget lock;
  private String sharedName;

  @Setup(Level.Trial)
  public void open() throws Exception {
    lock = Targets.open(target);
    sharedName = "bench-c-" + UUID.randomUUID();
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    lock.close();
  }

  /** A lock name of the thread's own. */
  @State(Scope.Thread)
  public static class OwnName {
    final String name = "bench-u-" + UUID.randomUUID();
  }

  @Benchmark
  @Threads(4)
  public Object uncontended(OwnName own) throws Exception {
    Object hold = lock.acquire(own.name);
    lock.release(hold);
    return hold;
  }

  @Benchmark
  @Threads(8)
  public Object contended() throws Exception {
    Object hold = lock.acquire(sharedName);
    lock.release(hold);
    return hold;
  }
}
