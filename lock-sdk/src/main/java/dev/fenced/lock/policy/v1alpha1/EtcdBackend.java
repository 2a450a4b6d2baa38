package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** Where the etcd backend connects and where it keeps its keys. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"endpoints", "keyPrefix"})
public class EtcdBackend {

  public static final String DEFAULT_KEY_PREFIX = "/fenced/locks";

  @Required
  @Size(min = 1, max = 16)
  // startsWith costs the length of its argument only: the API server's cost estimate stays small.
  @ValidationRule(
      value = "self.all(e, e.startsWith('http://') || e.startsWith('https://'))",
      message = "each endpoint must be an http:// or https:// URL, such as http://etcd:2379")
  @JsonPropertyDescription("Client URLs of the etcd members, such as http://etcd:2379.")
  private List<String> endpoints = new ArrayList<>();

  @Default(DEFAULT_KEY_PREFIX)
  @Pattern(LockPolicySpec.NOT_BLANK)
  @JsonPropertyDescription("Key prefix under which lock keys live.")
  private String keyPrefix = DEFAULT_KEY_PREFIX;

  public List<String> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<String> endpoints) {
    this.endpoints = endpoints;
  }

  public String getKeyPrefix() {
    return keyPrefix;
  }

  public void setKeyPrefix(String keyPrefix) {
    this.keyPrefix = keyPrefix;
  }
}
