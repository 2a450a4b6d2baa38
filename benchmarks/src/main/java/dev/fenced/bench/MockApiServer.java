package dev.fenced.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Fabric8 mock API server in CRUD mode, in this JVM. Not a real kube-apiserver (none can be had
 * here): no etcd behind it, no admission, no authentication, so its latency says little about a
 * cluster's. The Lease figures compare clients against the same mock, nothing more.
 */
final class MockApiServer implements AutoCloseable {

  /** Held so the level sticks: the mock server logs every request at INFO. */
  private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  MockApiServer() {
    MOCK_LOG.setLevel(Level.WARNING);
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    client = server.createClient();
  }

  KubernetesClient client() {
    return client;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
