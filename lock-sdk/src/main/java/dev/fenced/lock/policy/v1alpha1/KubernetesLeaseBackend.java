package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where the Kubernetes Lease backend keeps its {@code coordination.k8s.io/v1} Lease objects. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KubernetesLeaseBackend {

  @JsonPropertyDescription("Namespace of the Lease objects; the LockPolicy's own when not set.")
  private String namespace;

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }
}
