package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Where the ZooKeeper backend connects and under which node it keeps locks. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"connectString", "basePath"})
public class ZooKeeperBackend {

  public static final String DEFAULT_BASE_PATH = "/fenced/locks";

  @Required
  @JsonPropertyDescription("ZooKeeper connect string: host:port[,host:port...][/chroot].")
  private String connectString;

  @Default(DEFAULT_BASE_PATH)
  @Pattern("^/.*")
  @JsonPropertyDescription("Absolute path of the node under which lock nodes live.")
  private String basePath = DEFAULT_BASE_PATH;

  public String getConnectString() {
    return connectString;
  }

  public void setConnectString(String connectString) {
    this.connectString = connectString;
  }

  public String getBasePath() {
    return basePath;
  }

  public void setBasePath(String basePath) {
    this.basePath = basePath;
  }
}
