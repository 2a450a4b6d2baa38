package dev.fenced.operator;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * The Fabric8 mock API server in CRUD mode as a process of its own, for local runs that have no
 * cluster: {@code scripts/monitoring-check.sh} starts it, runs the packaged operator against it and
 * applies a LockPolicy with curl, so that Prometheus scrapes an operator that reconciles a policy
 * on the real backends. It answers the {@code SelfSubjectRulesReview} that JOSDK sends before a
 * leader election with the shipped Role's rules, as {@link OperatorRoleRules} does in the tests.
 * Plain HTTP on the loopback address.
 *
 * <pre>
 * java -cp &lt;lock-operator test classpath&gt; dev.fenced.operator.LocalApiServer &lt;port&gt;
 * </pre>
 */
public final class LocalApiServer {

  private LocalApiServer() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 1 || !args[0].matches("\\d{1,5}")) {
      System.err.println("usage: LocalApiServer <port>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init(InetAddress.getLoopbackAddress(), port);
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, OperatorRoleRules.review())
        .always();
    Runtime.getRuntime().addShutdownHook(new Thread(server::destroy));
    System.out.println("[api-server] CRUD mock API server on http://127.0.0.1:" + port);
    Thread.currentThread().join();
  }
}
