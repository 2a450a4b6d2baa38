package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did for a {@link LockPolicy}; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"observedGeneration", "epoch", "backendIdentity", "conditions"})
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

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
