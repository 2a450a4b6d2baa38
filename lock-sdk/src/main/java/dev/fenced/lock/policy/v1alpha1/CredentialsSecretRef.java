package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/**
 * A Secret holding a user name and a password; the key defaults match the {@code
 * kubernetes.io/basic-auth} Secret type.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "usernameKey", "passwordKey"})
public class CredentialsSecretRef {

  public static final String DEFAULT_USERNAME_KEY = "username";
  public static final String DEFAULT_PASSWORD_KEY = "password";

  @Required
  @JsonPropertyDescription("Name of the Secret, in the LockPolicy's namespace.")
  private String name;

  @Default(DEFAULT_USERNAME_KEY)
  @JsonPropertyDescription("Key within the Secret holding the user name.")
  private String usernameKey = DEFAULT_USERNAME_KEY;

  @Default(DEFAULT_PASSWORD_KEY)
  @JsonPropertyDescription("Key within the Secret holding the password.")
  private String passwordKey = DEFAULT_PASSWORD_KEY;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getUsernameKey() {
    return usernameKey;
  }

  public void setUsernameKey(String usernameKey) {
    this.usernameKey = usernameKey;
  }

  public String getPasswordKey() {
    return passwordKey;
  }

  public void setPasswordKey(String passwordKey) {
    this.passwordKey = passwordKey;
  }
}
