package dev.fenced.lock.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holders whose clocks lie, in their own JVMs under Debian's libfaketime ({@code apt-get install
 * faketime}), contend with an honest holder in this JVM for one lock per distributed backend, all
 * backends at once:
 *
 * <ul>
 *   <li><b>forward</b> and <b>back</b>: the wall clock jumps an hour forward, or an hour back,
 *       while the process holds locks, and the monotonic clock runs on ({@code
 *       FAKETIME_DONT_FAKE_MONOTONIC=1}): what an NTP step or an operator's {@code date -s} does to
 *       a Linux process;
 *   <li><b>fast</b>: every clock of the process, monotonic included, runs at twice the real rate,
 *       as on a host whose oscillator is off (libfaketime also shortens the process's timed waits).
 * </ul>
 *
 * The jumps come {@link #FAKE_AFTER} after each child starts ({@code
 * FAKETIME_START_AFTER_SECONDS}), once it is holding. libfaketime's {@code
 * FAKETIME_TIMESTAMP_FILE}, which would let the test move the clock at will, slows a JVM's class
 * loading to a crawl; and a rate that starts late makes the monotonic clock leap forward (every
 * hold is then lost at once, which is safe but not a fast clock), so the fast child runs fast from
 * its start.
 *
 * <p>Each holder increments every backend's {@link FencedCounter} by claim, read, pause, write.
 * Asserted per backend: the fenced value equals the writes storage accepted, in PostgreSQL and in
 * Redis (no two accepted writers overlapped), and the unfenced row equals its writes (the lock's
 * own exclusion held: no backend judges expiry by the holder's clock). Each child also proves its
 * clock was faked while it held: the jumping ones saw their wall clock move an hour against their
 * monotonic clock, the fast one measured about twice the real time.
 */
class ClockIT {

  static final Duration LEASE = Duration.ofSeconds(2);
  static final Duration RENEW = Duration.ofMillis(500);

  /** When the fake clocks start, counted from each child's start: after it is holding. */
  static final Duration FAKE_AFTER = Duration.ofSeconds(90);

  /** How long the holders run with the fake clocks. */
  private static final Duration FAKED_RUN = Duration.ofSeconds(8);

  private static final Path LIBFAKETIME =
      Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
  private static final Pattern RESULT =
      Pattern.compile(
          "RESULT (\\S+) accepted=(\\d+) refused=(\\d+) plainWrites=(\\d+) lockErrors=(\\d+)"
              + " pgOnly=(\\d+) redisOnly=(\\d+) lostHolds=(\\d+)");
  private static final Pattern CLOCK =
      Pattern.compile("CLOCK offsetMinMs=(-?\\d+) offsetMaxMs=(-?\\d+) wall=(\\d+) mono=(-?\\d+)");

  @TempDir Path dir;

  /** The policy every holder of the clock test builds its service from. */
  static String policy(String backend, String lockName) {
    return TestPolicies.yaml(backend, "clock:", LEASE, RENEW, Duration.ofSeconds(10), null);
  }

  @Test
  void holdersWithJumpingOrFastClocksNeverWriteOverEachOther() throws Exception {
    assertThat(LIBFAKETIME)
        .as("libfaketime is needed for the clock test: apt-get install faketime")
        .exists();
    Path secrets = TestPolicies.writeSecrets(dir);
    Vertx vertx = Vertx.vertx();
    String run = UUID.randomUUID().toString();
    Map<String, String> names = new LinkedHashMap<>();
    List<AutoCloseable> closing = new ArrayList<>();
    List<ClockSkewedHolder.Worker> honest = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    List<Child> children = new ArrayList<>();
    try {
      Map<String, FencedCounter> counters = new HashMap<>();
      for (String backend : TestPolicies.BACKENDS) {
        String name = "clock:" + backend + ":" + run;
        names.put(backend, name);
        FencedCounter counter = FencedCounter.reset(vertx, name);
        counters.put(backend, counter);
        closing.add(counter);
        var service = TestPolicies.create(vertx, secrets, policy(backend, name));
        closing.add(service);
        honest.add(new ClockSkewedHolder.Worker(backend, name, service, counter));
      }
      // One child at a time, and nobody holds until all are up: JVMs starting together on a busy
      // machine miss their connect timeouts.
      // The fast child first, the jumping ones last, so their jumps come soon after the others.
      long started = System.nanoTime();
      Child fast = Child.start("fast", secrets, names, Map.of("FAKETIME", "+0 x2"));
      children.add(fast);
      fast.awaitReady();
      String after = Long.toString(FAKE_AFTER.toSeconds());
      Child forward =
          Child.start(
              "forward",
              secrets,
              names,
              Map.of(
                  "FAKETIME", "+1h",
                  "FAKETIME_START_AFTER_SECONDS", after,
                  "FAKETIME_DONT_FAKE_MONOTONIC", "1"));
      children.add(forward);
      forward.awaitReady();
      Child back =
          Child.start(
              "back",
              secrets,
              names,
              Map.of(
                  "FAKETIME", "-1h",
                  "FAKETIME_START_AFTER_SECONDS", after,
                  "FAKETIME_DONT_FAKE_MONOTONIC", "1"));
      children.add(back);
      back.awaitReady();
      long readyAfter = millisSince(started);
      for (Child child : children) {
        child.send("go");
      }
      for (ClockSkewedHolder.Worker w : honest) {
        Thread t = new Thread(w, "honest-" + w.backend);
        t.start();
        threads.add(t);
      }
      fast.mark();
      // The jumps come FAKE_AFTER after each child's start; the holders go on with them a while.
      Thread.sleep(
          Math.max(0, FAKE_AFTER.plus(FAKED_RUN).toMillis() - millisSince(back.startedNanos)));

      for (Child child : children) {
        child.stop();
      }
      honest.forEach(ClockSkewedHolder.Worker::stop);
      for (Thread t : threads) {
        t.join(30_000);
      }
      Map<String, Map<String, long[]>> results = new LinkedHashMap<>();
      for (Child child : children) {
        results.put(child.label, child.results());
      }

      // The children's clocks really lied while they held.
      System.out.printf(
          "clock: holders ready %d ms after the first started; wall minus monotonic moved by %d min (forward),"
              + " %d min (back); fast child measured %.2f s (monotonic) and %.2f s (wall) in %.2f"
              + " real s%n",
          readyAfter,
          forward.offsetSpreadMillis() / 60_000,
          back.offsetSpreadMillis() / 60_000,
          fast.monoSeconds(),
          fast.wallSeconds(),
          fast.realSeconds());
      assertThat(forward.offsetSpreadMillis()).isGreaterThan(Duration.ofMinutes(59).toMillis());
      assertThat(back.offsetSpreadMillis()).isGreaterThan(Duration.ofMinutes(59).toMillis());
      assertThat(fast.monoSeconds() / fast.realSeconds()).isGreaterThan(1.5);
      assertThat(fast.wallSeconds() / fast.realSeconds()).isGreaterThan(1.5);

      for (ClockSkewedHolder.Worker w : honest) {
        FencedCounter counter = counters.get(w.backend);
        long[] total = {
          w.accepted.get(),
          w.refused.get(),
          w.plainWrites.get(),
          w.lockErrors.get(),
          w.pgOnly.get(),
          w.redisOnly.get(),
          w.lostHolds.get()
        };
        StringBuilder perHolder = new StringBuilder("honest " + Arrays.toString(total));
        List<Long> acceptedPerHolder = new ArrayList<>(List.of(w.accepted.get()));
        for (var entry : results.entrySet()) {
          long[] r = entry.getValue().get(w.backend);
          for (int i = 0; i < total.length; i++) {
            total[i] += r[i];
          }
          acceptedPerHolder.add(r[0]);
          perHolder.append(", ").append(entry.getKey()).append(' ').append(Arrays.toString(r));
        }
        System.out.printf(
            "clock %-18s counter %d (Redis %d) = accepted %d; unfenced %d of %d writes;"
                + " [accepted, refused, plainWrites, lockErrors, pgOnly, redisOnly, lostHolds]: %s%n",
            w.backend,
            counter.value(),
            counter.redisValue(),
            total[0],
            counter.plainValue(),
            total[2],
            perHolder);
        // Each store holds exactly the increments it accepted.
        assertThat(counter.value()).as(w.backend).isEqualTo(total[0] + total[4]);
        assertThat(counter.redisValue()).as(w.backend).isEqualTo(total[0] + total[5]);
        assertThat(counter.plainValue()).as(w.backend + " unfenced").isEqualTo(total[2]);
        assertThat(acceptedPerHolder).as(w.backend + ": every holder wrote").allMatch(n -> n > 0);
      }
    } finally {
      honest.forEach(ClockSkewedHolder.Worker::stop);
      children.forEach(child -> child.process.destroyForcibly());
      for (int i = closing.size() - 1; i >= 0; i--) {
        try {
          closing.get(i).close();
        } catch (Exception e) {
          // closing anyway
        }
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** A {@link ClockSkewedHolder} JVM under libfaketime, and what it printed. */
  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static final class Child {

    final String label;
    final Process process;
    final long startedNanos = System.nanoTime();
    final CompletableFuture<long[]> ready = new CompletableFuture<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final Map<String, long[]> results = new HashMap<>();
    final StringBuilder output = new StringBuilder();
    long readyRealNanos;
    long markSentNanos;
    long stopRealNanos;
    long[] readyClocks;
    long[] markClocks;
    long[] clock;

    private Child(String label, Process process) {
      this.label = label;
      this.process = process;
    }

    static Child start(
        String label, Path secrets, Map<String, String> names, Map<String, String> env)
        throws Exception {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(ClockSkewedHolder.class.getName());
      command.add(secrets.toString());
      names.forEach((backend, name) -> command.add(backend + "=" + name));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().put("LD_PRELOAD", LIBFAKETIME.toString());
      builder.environment().putAll(env);
      Child child = new Child(label, builder.start());
      Thread reader = new Thread(child::read, "clock-child-" + label);
      reader.setDaemon(true);
      reader.start();
      return child;
    }

    private void read() {
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          Matcher m;
          if (line.startsWith("READY ")) {
            readyRealNanos = System.nanoTime();
            String[] parts = line.split(" ");
            ready.complete(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
          } else if ((m = RESULT.matcher(line)).matches()) {
            long[] r = new long[7];
            for (int i = 0; i < 7; i++) {
              r[i] = Long.parseLong(m.group(i + 2));
            }
            synchronized (results) {
              results.put(m.group(1), r);
            }
          } else if (line.startsWith("MARK ")) {
            String[] parts = line.split(" ");
            markClocks = new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
          } else if ((m = CLOCK.matcher(line)).matches()) {
            clock = new long[4];
            for (int i = 0; i < 4; i++) {
              clock[i] = Long.parseLong(m.group(i + 1));
            }
          } else {
            synchronized (output) {
              output.append(line).append('\n');
            }
          }
        }
        done.complete(null);
      } catch (Exception e) {
        done.completeExceptionally(e);
      }
      ready.completeExceptionally(new IllegalStateException(label + " holder exited:\n" + output));
    }

    void awaitReady() throws Exception {
      try {
        long left = FAKE_AFTER.toMillis() - millisSince(startedNanos);
        readyClocks = ready.get(Math.max(0, left), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        synchronized (output) {
          throw new AssertionError(
              label + " holder not ready within " + FAKE_AFTER + ":\n" + output);
        }
      }
    }

    void mark() throws Exception {
      markSentNanos = System.nanoTime();
      send("mark");
    }

    void stop() throws Exception {
      stopRealNanos = System.nanoTime();
      send("stop");
    }

    void send(String command) throws Exception {
      Writer w = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      w.write(command + "\n");
      w.flush();
    }

    /** How far wall minus monotonic time moved while the child held: a jump shows here. */
    long offsetSpreadMillis() {
      return clock[1] - clock[0];
    }

    Map<String, long[]> results() throws Exception {
      done.get(60, TimeUnit.SECONDS);
      assertThat(clock).as(label + " holder printed its clocks:\n" + output).isNotNull();
      assertThat(results.keySet())
          .as(label + " holder's results:\n" + output)
          .containsExactlyInAnyOrderElementsOf(TestPolicies.BACKENDS);
      return results;
    }

    /** Real time from the mark to the stop, as this JVM measured it. */
    double realSeconds() {
      return (stopRealNanos - markSentNanos) / 1e9;
    }

    double monoSeconds() {
      return (clock[3] - markClocks[1]) / 1e9;
    }

    double wallSeconds() {
      return (clock[2] - markClocks[0]) / 1e3;
    }
  }
}
