package dev.fenced.lock.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which failures replace a service's etcd client, and on which thread the new one is built. No
 * server is needed: a jetcd client connects on its first call, and none is made here.
 */
class EtcdConnectionTest {

  private final List<String> builtOn = new CopyOnWriteArrayList<>();
  private final EtcdConnection connection =
      EtcdConnection.owned(
          () -> {
            builtOn.add(Thread.currentThread().getName());
            return Client.builder().endpoints("http://127.0.0.1:1").build();
          },
          100);

  @AfterEach
  void close() {
    connection.close();
  }

  @Test
  void anUnreachableServerReplacesTheClientOnTheConnectionsOwnThread() {
    replacedAfter(new CompletionException(Status.UNAVAILABLE.asRuntimeException()));

    assertThat(builtOn).hasSize(2);
    assertThat(builtOn.get(1)).isEqualTo("fenced-etcd-reconnect");
  }

  @Test
  void aClientThatNoLongerCompletesItsCallsIsReplaced() {
    replacedAfter(new CompletionException(new TimeoutException()));
    replacedAfter(new CompletionException(new RejectedExecutionException("terminated")));

    assertThat(builtOn).hasSize(3);
  }

  @Test
  void aSlowServerKeepsTheClient() throws InterruptedException {
    Client first = connection.client();
    // Past the pause between two replacements, so that only the kind of failure decides.
    Thread.sleep(EtcdConnection.REBUILD_EVERY_MS + 100);
    connection.failed(
        first, new CompletionException(Status.DEADLINE_EXCEEDED.asRuntimeException()));
    connection.failed(first, new IllegalStateException("a refusal etcd answered"));
    Thread.sleep(300);
    assertThat(connection.client()).isSameAs(first);
    assertThat(builtOn).hasSize(1);
  }

  /** Reports {@code error} for the current client until it is replaced (after the rate limit). */
  private void replacedAfter(Throwable error) {
    Client used = connection.client();
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              connection.failed(used, error);
              return connection.client() != used;
            });
  }
}
