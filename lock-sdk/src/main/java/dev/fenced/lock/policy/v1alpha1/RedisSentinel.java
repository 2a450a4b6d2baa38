package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/** The Sentinels that tell the Redis backend which server is the primary of a master set. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"masterName", "nodes"})
public class RedisSentinel {

  @Required
  @Pattern("^[^\\s]+$")
  @JsonPropertyDescription(
      "The master set's name, as the Sentinels monitor it (sentinel monitor <masterName> ...).")
  private String masterName;

  @Required
  @Size(min = 1)
  @JsonPropertyDescription(
      "The Sentinels, each host:port (such as redis-sentinel-0:26379); the first that answers"
          + " names the current primary.")
  private List<String> nodes = new ArrayList<>();

  public String getMasterName() {
    return masterName;
  }

  public void setMasterName(String masterName) {
    this.masterName = masterName;
  }

  public List<String> getNodes() {
    return nodes;
  }

  public void setNodes(List<String> nodes) {
    this.nodes = nodes;
  }
}
