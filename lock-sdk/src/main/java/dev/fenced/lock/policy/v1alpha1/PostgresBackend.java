package dev.fenced.lock.policy.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where and how the PostgreSQL backend holds locks. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"host", "port", "database", "jdbcUrl", "mode", "credentialsSecretRef"})
@ValidationRule(
    value =
        "has(self.jdbcUrl) ? !(has(self.host) || has(self.port) || has(self.database))"
            + " : (has(self.host) && has(self.database))",
    message = "set either jdbcUrl, or host and database (port optional), not both")
public class PostgresBackend {

  public static final int DEFAULT_PORT = 5432;

  @Pattern(LockPolicySpec.NOT_BLANK)
  @JsonPropertyDescription(
      "Server host name or address; with database, the alternative to jdbcUrl.")
  private String host;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("Server port; 5432 when not set.")
  private Integer port;

  @Pattern(LockPolicySpec.NOT_BLANK)
  @JsonPropertyDescription("Database that holds the lock table or rows.")
  private String database;

  @Pattern("^jdbc:postgresql://.+")
  @Size(max = 2048)
  @ValidationRule(
      value = "!self.matches('(?i)[?&]password=')",
      message = "must not carry the password; use credentialsSecretRef")
  @JsonPropertyDescription(
      "The whole address as jdbc:postgresql://host:port/database, instead of host, port and"
          + " database. It must not carry the password: use credentialsSecretRef.")
  private String jdbcUrl;

  @Required
  @JsonPropertyDescription(
      "How a lock is held: LockTable (a row per held lock, taken over when its lease expires),"
          + " RowLock (SELECT ... FOR UPDATE held in an open transaction) or Advisory (a"
          + " PostgreSQL advisory lock held by a session).")
  private PostgresMode mode;

  @JsonPropertyDescription("The Secret holding the database user name and password.")
  private CredentialsSecretRef credentialsSecretRef;

  public String getHost() {
    return host;
  }

  public void setHost(String host) {
    this.host = host;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }

  public String getDatabase() {
    return database;
  }

  public void setDatabase(String database) {
    this.database = database;
  }

  public String getJdbcUrl() {
    return jdbcUrl;
  }

  public void setJdbcUrl(String jdbcUrl) {
    this.jdbcUrl = jdbcUrl;
  }

  public PostgresMode getMode() {
    return mode;
  }

  public void setMode(PostgresMode mode) {
    this.mode = mode;
  }

  public CredentialsSecretRef getCredentialsSecretRef() {
    return credentialsSecretRef;
  }

  public void setCredentialsSecretRef(CredentialsSecretRef credentialsSecretRef) {
    this.credentialsSecretRef = credentialsSecretRef;
  }
}
