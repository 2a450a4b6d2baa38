package dev.fenced.lock.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdLockConfigTest {

  @Test
  void defaultsAndNormalisation() {
    EtcdLockConfig config = EtcdLockConfig.of("http://etcd:2379");
    assertThat(config.keyPrefix()).isEqualTo("/fenced/locks");
    assertThat(config.requestTimeout()).isEqualTo(EtcdLockConfig.DEFAULT_REQUEST_TIMEOUT);
    assertThat(new EtcdLockConfig(List.of("http://a:1"), "/x/y/").keyPrefix()).isEqualTo("/x/y");
    assertThat(EtcdLockConfig.parse(" http://a:1, http://b:2 ,", null).endpoints())
        .containsExactly("http://a:1", "http://b:2");
  }

  @Test
  void noEndpoints() {
    assertThatThrownBy(() -> new EtcdLockConfig(List.of(), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoints");
  }

  @Test
  void anEndpointWithoutHost() {
    assertThatThrownBy(() -> EtcdLockConfig.of("etcd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoints: 'etcd' must look like http://host:2379");
  }

  @Test
  void anEndpointWithTls() {
    assertThatThrownBy(() -> EtcdLockConfig.of("https://etcd:2379"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("only http is supported");
  }

  @Test
  void aRelativePrefix() {
    assertThatThrownBy(() -> new EtcdLockConfig(List.of("http://a:1"), "locks"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyPrefix must start with '/'");
  }

  @Test
  void theRootAsPrefix() {
    assertThatThrownBy(() -> new EtcdLockConfig(List.of("http://a:1"), "/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyPrefix must name a key below '/'");
  }

  @Test
  void aNonPositiveRequestTimeout() {
    assertThatThrownBy(() -> EtcdLockConfig.of("http://a:1").withRequestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("requestTimeout must be positive");
  }

  @Test
  void namesBecomeOneKeySegmentEach() {
    EtcdKeys keys = new EtcdKeys("/p");
    assertThat(EtcdKeys.encode("vote:cats-vs-dogs:cat")).isEqualTo("vote:cats-vs-dogs:cat");
    assertThat(EtcdKeys.encode("a/b")).isEqualTo("a%2Fb");
    assertThat(EtcdKeys.encode("50%")).isEqualTo("50%25");
    assertThat(EtcdKeys.encode("å b")).isEqualTo("%C3%A5%20b");
    assertThat(EtcdKeys.encode(".policy")).isEqualTo("%2Epolicy");
    assertThat(keys.lockDir("a/b").toString(StandardCharsets.UTF_8)).isEqualTo("/p/a%2Fb/");
    assertThat(keys.waiterKey("a", 0x1fL, 0).toString(StandardCharsets.UTF_8))
        .isEqualTo("/p/a/000000000000001f-0");
    assertThat(keys.waiterKey("a", 0x1fL, 0))
        .as("two acquires of one service (one lease) on one lock, in two slots, get different keys")
        .isNotEqualTo(keys.waiterKey("a", 0x1fL, 1));
    // No lock's directory is a prefix of another's, nor of the marker.
    assertThat(keys.lockDir("a/b").startsWith(keys.lockDir("a"))).isFalse();
    assertThat(keys.marker().startsWith(keys.lockDir(".policy"))).isFalse();
  }
}
