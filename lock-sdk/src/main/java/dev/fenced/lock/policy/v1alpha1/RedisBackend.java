package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the Redis backend connects: one server by its URL, or the primary that Sentinels name. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"url", "sentinel", "passwordSecretRef"})
@ValidationRule(
    value = "has(self.url) != has(self.sentinel)",
    message = "set either url (one server) or sentinel (the primary its Sentinels name), not both")
public class RedisBackend {

  // A host after the scheme; user info, if any, without a password (no ':' before the '@').
  @Pattern("^rediss?://([^\\s:@/]*@)?[^\\s:@/][^\\s@/]*(/\\S*)?$")
  @JsonPropertyDescription(
      "Redis URL, redis://host:port or rediss:// for TLS, optionally with /database. It must not"
          + " carry a password: use passwordSecretRef. Set either url or sentinel.")
  private String url;

  @JsonPropertyDescription(
      "Reach the primary of a Redis master set through its Sentinels instead of one fixed URL, so"
          + " the locks follow a failover. Set either url or sentinel. passwordSecretRef, if set,"
          + " is presented to the Sentinels and the servers alike.")
  private RedisSentinel sentinel;

  @JsonPropertyDescription("The Secret key holding the Redis password, if the server needs one.")
  private SecretKeyRef passwordSecretRef;

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public RedisSentinel getSentinel() {
    return sentinel;
  }

  public void setSentinel(RedisSentinel sentinel) {
    this.sentinel = sentinel;
  }

  public SecretKeyRef getPasswordSecretRef() {
    return passwordSecretRef;
  }

  public void setPasswordSecretRef(SecretKeyRef passwordSecretRef) {
    this.passwordSecretRef = passwordSecretRef;
  }
}
