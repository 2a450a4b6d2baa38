package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Where the Redis backend connects. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"url", "passwordSecretRef"})
public class RedisBackend {

  @Required
  // A host after the scheme; user info, if any, without a password (no ':' before the '@').
  @Pattern("^rediss?://([^\\s:@/]*@)?[^\\s:@/][^\\s@/]*(/\\S*)?$")
  @JsonPropertyDescription(
      "Redis URL, redis://host:port or rediss:// for TLS, optionally with /database. It must not"
          + " carry a password: use passwordSecretRef.")
  private String url;

  @JsonPropertyDescription("The Secret key holding the Redis password, if the server needs one.")
  private SecretKeyRef passwordSecretRef;

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public SecretKeyRef getPasswordSecretRef() {
    return passwordSecretRef;
  }

  public void setPasswordSecretRef(SecretKeyRef passwordSecretRef) {
    this.passwordSecretRef = passwordSecretRef;
  }
}
