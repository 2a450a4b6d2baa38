package dev.fenced.lock.quarkus;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** When a Redis policy is handed Quarkus's client: the same server, whatever the credentials. */
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
}
