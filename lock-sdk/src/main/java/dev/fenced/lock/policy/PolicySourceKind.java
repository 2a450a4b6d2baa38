package dev.fenced.lock.policy;

import java.util.Locale;
import java.util.Map;

/**
 * Which {@link PolicySource} a service follows: the LockPolicies of the Kubernetes API ({@link
 * KubernetesPolicySource}) or a folder of YAML files ({@link DirectoryPolicySource}). {@code auto}
 * picks Kubernetes inside a pod (where {@value #IN_CLUSTER_VARIABLE} is set) and the folder
 * otherwise.
 */
public enum PolicySourceKind {
  KUBERNETES,
  DIRECTORY,
  AUTO;

  /** Set by the kubelet in every container of a pod. */
  public static final String IN_CLUSTER_VARIABLE = "KUBERNETES_SERVICE_HOST";

  /**
   * Reads a setting: {@code kubernetes}, {@code directory} or {@code auto}, any case.
   *
   * @param setting what the setting is called, for the message
   * @throws IllegalArgumentException naming the setting and the values it takes
   */
  public static PolicySourceKind parse(String setting, String value) {
    String v = value == null ? "" : value.strip().toUpperCase(Locale.ROOT);
    for (PolicySourceKind kind : values()) {
      if (kind.name().equals(v)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        setting + " must be kubernetes, directory or auto, was \"" + value + "\"");
  }

  /** {@link #KUBERNETES} or {@link #DIRECTORY}: {@link #AUTO} decided by {@code environment}. */
  public PolicySourceKind resolve(Map<String, String> environment) {
    if (this != AUTO) {
      return this;
    }
    String host = environment.get(IN_CLUSTER_VARIABLE);
    return host == null || host.isBlank() ? DIRECTORY : KUBERNETES;
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
