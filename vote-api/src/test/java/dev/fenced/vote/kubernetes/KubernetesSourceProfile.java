package dev.fenced.vote.kubernetes;

import dev.fenced.vote.FencedTestServers;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * The service with policies and Secrets from the Kubernetes API (the mock API server of {@code
 * WithKubernetesTestServer}), namespace {@value #NAMESPACE}, and the real Redis and PostgreSQL of
 * scripts/backends.sh.
 */
public class KubernetesSourceProfile implements QuarkusTestProfile {

  public static final String NAMESPACE = "voting";

  @Override
  public Map<String, String> getConfigOverrides() {
    return Map.of(
        "fenced.policies.source",
        "kubernetes",
        "fenced.policies.namespace",
        NAMESPACE,
        "quarkus.redis.hosts",
        FencedTestServers.REDIS_URL);
  }
}
