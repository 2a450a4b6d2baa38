package dev.fenced.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * A second operator instance in the test JVM, built as QOSDK builds the first: a JOSDK {@link
 * Operator} running the same {@link LockPolicyReconciler} with the application's settings, its own
 * Kubernetes client, Vert.x and backend clients (so against the same mock API server and the same
 * real backends), leader election from the same {@link LeaderElectionSettings} under another
 * identity, and {@link OperatorMetrics} in a registry of its own. Its client records every request
 * that is not a read, so a test can show what this instance wrote, and when it sent its first write
 * of a Lease.
 */
final class OperatorReplica implements AutoCloseable {

  final OperatorLeadership leadership;
  final BackendClients backends;
  final List<String> writes = new CopyOnWriteArrayList<>();
  final List<Integer> exits = new CopyOnWriteArrayList<>();

  /** When this instance's client sent its first write of a Lease (null before it tried to lead). */
  volatile Instant firstLeaseWrite;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Vertx vertx = Vertx.vertx();
  private final KubernetesClient client;
  private final Operator operator;

  OperatorReplica(KubernetesServer server, LeaderElectionSettings settings, String identity) {
    Interceptor recorder =
        new Interceptor() {
          @Override
          public void before(
              BasicBuilder builder, HttpRequest request, Interceptor.RequestTags tags) {
            if (!"GET".equals(request.method())) {
              String path = request.uri().getPath();
              if (firstLeaseWrite == null && path.endsWith("/leases/" + settings.leaseName())) {
                firstLeaseWrite = Instant.now();
              }
              writes.add(request.method() + " " + path);
            }
          }
        };
    client =
        server
            .getKubernetesMockServer()
            .createClient(
                b ->
                    b.withHttpClientBuilderConsumer(
                        h -> h.addOrReplaceInterceptor("record-writes", recorder)));
    leadership = new OperatorLeadership(settings, Optional.of(identity), exits::add);
    backends = new BackendClients(vertx, client);
    Config config = ConfigProvider.getConfig();
    LockPolicyReconciler reconciler =
        new LockPolicyReconciler(
            client,
            backends,
            new PolicyEvents(client),
            config.getValue("fenced.operator.backend-timeout", Duration.class),
            config.getValue("fenced.operator.backoff.initial", Duration.class),
            config.getValue("fenced.operator.backoff.max", Duration.class),
            config.getValue("fenced.operator.cleanup.max-attempts", Integer.class),
            config.getValue("fenced.operator.recheck-interval", Duration.class));
    OperatorMetrics metrics = new OperatorMetrics(registry, leadership::leading);
    operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withMetrics(metrics)
                    .withLeaderElectionConfiguration(leadership.configuration())
                    // as quarkus.operator-sdk.enable-ssa=false: the mock server refuses SSA
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withCloseClientOnStop(false));
    operator.register(reconciler);
    operator.start();
  }

  double reconciles(String outcome) {
    Counter c = registry.find(OperatorMetrics.RECONCILES).tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  double leaderGauge() {
    return registry.get(OperatorMetrics.LEADER).gauge().value();
  }

  /** The policy gauge's value, or null when this instance exports no such series. */
  Double policyGauge(String name, String namespace, String policy) {
    Gauge g = registry.find(name).tag("namespace", namespace).tag("name", policy).gauge();
    return g == null ? null : g.value();
  }

  /** Stops as Quarkus's shutdown stops the application's instance: stopping first, then JOSDK. */
  @Override
  public void close() {
    leadership.stopping();
    try {
      operator.stop();
    } finally {
      backends.closeAll();
      client.close();
      vertx.close();
    }
  }
}
