package dev.fenced.lock.kubernetes;

import java.util.regex.Pattern;

/**
 * Where the Lease backend keeps its Lease objects; the Java face of a LockPolicy's {@code
 * kubernetesLease} block.
 *
 * @param namespace the namespace that holds one Lease per lock name; the client needs get, list,
 *     watch, create and update on {@code leases.coordination.k8s.io} there
 */
public record KubernetesLeaseLockConfig(String namespace) {

  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  public KubernetesLeaseLockConfig {
    if (namespace == null || namespace.isBlank()) {
      throw new IllegalArgumentException("namespace must not be blank");
    }
    if (namespace.length() > 63 || !DNS_1123_LABEL.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "namespace must be a DNS-1123 label (lower-case letters, digits and '-', at most 63"
              + " characters), was '"
              + namespace
              + "'");
    }
  }
}
