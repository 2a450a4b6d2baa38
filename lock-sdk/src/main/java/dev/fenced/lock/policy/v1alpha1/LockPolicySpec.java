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

/**
 * What a {@link LockPolicy} asks for. The CRD rules below are what the API server can check; {@code
 * dev.fenced.lock.policy.LockPolicyValidator} checks all of them again, and more, in code.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"lockNames", "backend", "leaseDuration", "renewInterval", "maxWait", "fencing"})
@ValidationRule(
    value =
        "!has(self.renewInterval) || !has(self.leaseDuration)"
            + " || duration(self.renewInterval) < duration(self.leaseDuration)",
    message = "renewInterval must be shorter than leaseDuration",
    fieldPath = ".renewInterval")
@ValidationRule(
    value = "self.backend.type != 'None' || (has(self.fencing) && self.fencing == 'Optional')",
    message = "backend None issues no fencing tokens: set fencing: Optional",
    fieldPath = ".fencing")
public class LockPolicySpec {

  /**
   * A Go-style duration ({@code 10s}, {@code 500ms}, {@code 1m30s}); unsigned, so negative values
   * are refused by the schema.
   */
  public static final String DURATION_PATTERN = "^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$";

  /** A string with something other than white space in it (OpenAPI pattern, searched). */
  public static final String NOT_BLANK = "\\S";

  public static final String DEFAULT_LEASE_DURATION = "10s";
  public static final String DEFAULT_RENEW_INTERVAL = "3s";
  public static final String DEFAULT_MAX_WAIT = "2s";

  @Required
  @Size(min = 1, max = 64)
  // size() is constant-time, so the API server's cost estimate stays small; blank patterns and
  // control characters are left to the operator's validator (scanning each pattern would need a
  // maxLength on the items, which the model cannot declare).
  @ValidationRule(
      value = "self.all(p, size(p) > 0 && size(p) <= 512)",
      message = "lock name patterns must have 1 to 512 characters")
  @JsonPropertyDescription(
      "Glob patterns of the lock names this policy governs: '*' matches any run of characters"
          + " (':' included), '?' exactly one. A lock name is governed by the matching policy whose"
          + " pattern has the longest literal prefix (the characters before the first '*' or '?');"
          + " a tie between two policies is reported on both and neither wins.")
  private List<String> lockNames = new ArrayList<>();

  @Required
  @JsonPropertyDescription(
      "The backend that keeps these locks: its type and exactly the one settings block that"
          + " matches it.")
  private Backend backend;

  @Default(DEFAULT_LEASE_DURATION)
  @Size(max = 32)
  @Pattern(DURATION_PATTERN)
  @ValidationRule(value = "duration(self) > duration('0s')", message = "must be positive")
  @JsonPropertyDescription(
      "How long a hold lasts without renewal, judged by the backend's clock; a Go-style duration"
          + " such as 10s, 500ms or 1m30s. A holder that stops renewing loses the lock after this"
          + " long.")
  private String leaseDuration = DEFAULT_LEASE_DURATION;

  @Default(DEFAULT_RENEW_INTERVAL)
  @Size(max = 32)
  @Pattern(DURATION_PATTERN)
  @ValidationRule(value = "duration(self) > duration('0s')", message = "must be positive")
  @JsonPropertyDescription(
      "How often a live holder renews its lease; must be shorter than leaseDuration. A Go-style"
          + " duration such as 3s.")
  private String renewInterval = DEFAULT_RENEW_INTERVAL;

  @Default(DEFAULT_MAX_WAIT)
  @Size(max = 32)
  @Pattern(DURATION_PATTERN)
  @JsonPropertyDescription(
      "The longest an acquire may wait for the lock before it fails with a timeout; 0 means try"
          + " once. A Go-style duration such as 2s.")
  private String maxWait = DEFAULT_MAX_WAIT;

  @Default("Required")
  @JsonPropertyDescription(
      "Required: storage must check every hold's fencing token. Optional: tokens are issued where"
          + " the backend can, but nothing insists; backend None needs Optional since it issues"
          + " none.")
  private Fencing fencing = Fencing.Required;

  public List<String> getLockNames() {
    return lockNames;
  }

  public void setLockNames(List<String> lockNames) {
    this.lockNames = lockNames;
  }

  public Backend getBackend() {
    return backend;
  }

  public void setBackend(Backend backend) {
    this.backend = backend;
  }

  public String getLeaseDuration() {
    return leaseDuration;
  }

  public void setLeaseDuration(String leaseDuration) {
    this.leaseDuration = leaseDuration;
  }

  public String getRenewInterval() {
    return renewInterval;
  }

  public void setRenewInterval(String renewInterval) {
    this.renewInterval = renewInterval;
  }

  public String getMaxWait() {
    return maxWait;
  }

  public void setMaxWait(String maxWait) {
    this.maxWait = maxWait;
  }

  public Fencing getFencing() {
    return fencing;
  }

  public void setFencing(Fencing fencing) {
    this.fencing = fencing;
  }
}
