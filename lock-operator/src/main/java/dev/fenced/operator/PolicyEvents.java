package dev.fenced.operator;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Kubernetes Events on a LockPolicy (core/v1, so {@code kubectl describe lp} shows them). */
@ApplicationScoped
public class PolicyEvents {

  static final String NORMAL = "Normal";
  static final String WARNING = "Warning";
  private static final String COMPONENT = "lock-operator";
  private static final Logger LOG = Logger.getLogger(PolicyEvents.class);

  private final KubernetesClient client;

  PolicyEvents(KubernetesClient client) {
    this.client = client;
  }

  /** Records one Event; a failure to record is logged, never thrown: events are best effort. */
  void emit(LockPolicy policy, String type, String reason, String message) {
    String namespace = policy.getMetadata().getNamespace();
    String time = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(
                policy.getMetadata().getName()
                    + "."
                    + UUID.randomUUID().toString().replace("-", "").substring(0, 16))
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion(LockPolicy.API_VERSION)
            .withKind(LockPolicy.KIND)
            .withNamespace(namespace)
            .withName(policy.getMetadata().getName())
            .withUid(policy.getMetadata().getUid())
            .withResourceVersion(policy.getMetadata().getResourceVersion())
            .endInvolvedObject()
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withFirstTimestamp(time)
            .withLastTimestamp(time)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (RuntimeException e) {
      LOG.debugf(e, "could not record event %s on %s/%s", reason, namespace, event.getMetadata());
    }
  }
}
