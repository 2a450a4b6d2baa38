package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did for a {@link LockPolicy}; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "observedGeneration",
  "epoch",
  "backendIdentity",
  "backendIncarnation",
  "conditions"
})
public class LockPolicyStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Fencing epoch: the high bits of every token, raised whenever the backend changes so that"
          + " the new backend's tokens are larger than any the old one issued.")
  private Long epoch;

  @JsonPropertyDescription(
      "The backend the epoch belongs to, as the operator last provisioned it: type and where the"
          + " locks live (endpoint, database, mode, key prefix or base path; never a credential)."
          + " A spec naming another backend raises the epoch.")
  private String backendIdentity;

  @JsonPropertyDescription(
      "The incarnation of the backend the epoch was set for (a server run id, a system identifier"
          + " and timeline, a cluster id, a base path's creation zxid, a Lease uid; never a"
          + " credential). When the backend is found in another incarnation (a failover, a restart"
          + " that lost data, a restore, a re-created base path or Lease), the operator raises the"
          + " epoch, and services grant no hold on the new incarnation until it has.")
  private String backendIncarnation;

  @JsonPropertyDescription(
      "Kubernetes-style conditions: Ready, BackendReachable, Conflicting and others, each with"
          + " status True, False or Unknown and a CamelCase reason.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Long getEpoch() {
    return epoch;
  }

  public void setEpoch(Long epoch) {
    this.epoch = epoch;
  }

  public String getBackendIdentity() {
    return backendIdentity;
  }

  public void setBackendIdentity(String backendIdentity) {
    this.backendIdentity = backendIdentity;
  }

  public String getBackendIncarnation() {
    return backendIncarnation;
  }

  public void setBackendIncarnation(String backendIncarnation) {
    this.backendIncarnation = backendIncarnation;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
