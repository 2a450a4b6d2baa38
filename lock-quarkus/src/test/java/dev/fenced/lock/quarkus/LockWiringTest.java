package dev.fenced.lock.quarkus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.policy.LockServiceFactory;
import io.vertx.core.Vertx;
import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * When a Redis policy is handed Quarkus's client (the same server, whatever the credentials), and
 * the clock-drift setting every hold gets.
 */
class LockWiringTest {

  @Test
  void sameServerComparesSchemeHostPortAndDatabase() {
    URI managed = URI.create("redis://user:secret@127.0.0.1:16379");
    assertThat(LockWiring.sameServer(managed, URI.create("redis://127.0.0.1:16379"))).isTrue();
    assertThat(LockWiring.sameServer(managed, URI.create("redis://127.0.0.1:16379/0"))).isTrue();
    assertThat(LockWiring.sameServer(managed, URI.create("redis://127.0.0.1:16379/1"))).isFalse();
    assertThat(LockWiring.sameServer(managed, URI.create("redis://127.0.0.1:6379"))).isFalse();
    assertThat(LockWiring.sameServer(managed, URI.create("rediss://127.0.0.1:16379"))).isFalse();
    assertThat(LockWiring.sameServer(managed, URI.create("redis://redis:16379"))).isFalse();
    assertThat(
            LockWiring.sameServer(
                URI.create("redis://localhost"), URI.create("redis://localhost:6379")))
        .isTrue();
  }

  @Test
  void theClockDriftSettingReachesTheFactoryAndABadOneNamesItself() {
    Vertx vertx = Vertx.vertx();
    try {
      LockServiceFactory factory =
          new LockServiceFactory(vertx, (name, key) -> Optional.empty(), null, null);
      assertThat(LockWiring.withClockDrift(factory, drift(0.05)).clockDrift()).isEqualTo(0.05);
      assertThatThrownBy(() -> LockWiring.withClockDrift(factory, drift(0.7)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("fenced.lock.clock-drift (env FENCED_LOCK_CLOCK_DRIFT)")
          .hasMessageContaining("was 0.7");
    } finally {
      vertx.close();
    }
  }

  private static LocksConfig drift(double value) {
    return new LocksConfig() {
      @Override
      public Policies policies() {
        throw new UnsupportedOperationException();
      }

      @Override
      public Secrets secrets() {
        throw new UnsupportedOperationException();
      }

      @Override
      public Lock lock() {
        return () -> value;
      }
    };
  }
}
