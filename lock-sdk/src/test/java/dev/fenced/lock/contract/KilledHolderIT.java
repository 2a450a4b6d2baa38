package dev.fenced.lock.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockPolicyYaml;
import dev.fenced.lock.policy.LockServiceFactory;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A holder in its own JVM is killed with SIGKILL while it holds a lock: no release, no clean
 * shutdown, its sockets closed by the kernel. The next holder, in this JVM, must get the lock
 * within the lease (plus the backend's expiry granularity) and a larger token. Every distributed
 * backend runs it on its real server, built from a LockPolicy file as a service would build it.
 */
class KilledHolderIT {

  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Duration SLACK = Duration.ofSeconds(3);

  @TempDir static Path dir;
  private static Vertx vertx;

  @BeforeAll
  static void secrets() throws Exception {
    TestPolicies.writeSecrets(dir);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.fenced.lock.contract.TestPolicies#backends")
  void aKilledHoldersLockPassesOnWithinItsLease(String backend) throws Exception {
    Path policy = dir.resolve(backend.replace('/', '-') + ".yaml");
    Files.writeString(
        policy,
        TestPolicies.yaml(
            backend, "killed:", LEASE, Duration.ofMillis(500), Duration.ofSeconds(10), null));
    String lockName = "killed:" + UUID.randomUUID();

    Process holder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                HoldThenHang.class.getName(),
                policy.toString(),
                dir.resolve("secrets").toString(),
                lockName)
            .redirectErrorStream(true)
            .start();
    ManagedLockService next = null;
    try {
      long heldToken = readHeldToken(holder);

      var read = LockPolicyYaml.read(policy.toString(), Files.readString(policy));
      next =
          new LockServiceFactory(
                  vertx, new DirectorySecretResolver(dir.resolve("secrets")), null, null)
              .create(read.policies().get(0));
      LockService.await(next.provision());

      holder.destroyForcibly(); // SIGKILL
      assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();
      long start = System.nanoTime();
      LockHandle handle = next.acquireBlocking(lockName, Duration.ofSeconds(10));
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(handle.fencingToken()).isGreaterThan(heldToken);
      assertThat(took).isLessThan(LEASE.plus(SLACK));
      LockService.await(handle.release());
    } finally {
      holder.destroyForcibly();
      if (next != null) {
        next.close();
      }
    }
  }

  /** Waits for the child's {@code HELD <token>} line, failing with its output if it dies first. */
  private static long readHeldToken(Process holder) throws Exception {
    CompletableFuture<Long> token = new CompletableFuture<>();
    StringBuilder output = new StringBuilder();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.startsWith("HELD ")) {
                    token.complete(Long.parseLong(line.substring(5).trim()));
                  } else {
                    output.append(line).append('\n');
                  }
                }
              } catch (Exception e) {
                token.completeExceptionally(e);
              }
              token.completeExceptionally(
                  new IllegalStateException("holder exited without holding:\n" + output));
            });
    reader.setDaemon(true);
    reader.start();
    return token.get(60, TimeUnit.SECONDS);
  }
}
