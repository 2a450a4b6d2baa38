package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicySourceKindTest {

  @Test
  void autoIsKubernetesInsideAPodAndDirectoryElsewhere() {
    assertThat(PolicySourceKind.AUTO.resolve(Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1")))
        .isEqualTo(PolicySourceKind.KUBERNETES);
    assertThat(PolicySourceKind.AUTO.resolve(Map.of())).isEqualTo(PolicySourceKind.DIRECTORY);
    assertThat(PolicySourceKind.DIRECTORY.resolve(Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1")))
        .isEqualTo(PolicySourceKind.DIRECTORY);
  }

  @Test
  void parsesAnyCaseAndNamesTheSettingOtherwise() {
    assertThat(PolicySourceKind.parse("s", " Kubernetes ")).isEqualTo(PolicySourceKind.KUBERNETES);
    assertThatThrownBy(() -> PolicySourceKind.parse("fenced.policies.source", "cluster"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "fenced.policies.source must be kubernetes, directory or auto, was \"cluster\"");
  }
}
