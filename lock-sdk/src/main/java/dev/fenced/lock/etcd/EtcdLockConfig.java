package dev.fenced.lock.etcd;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where the etcd locks live: the LockPolicy's {@code backend.etcd} block.
 *
 * @param endpoints client URLs of the etcd members, e.g. {@code http://etcd:2379}
 * @param keyPrefix the key under which every lock of this service lives, e.g. {@code
 *     /fenced/locks}; must start with {@code /}, a trailing {@code /} is dropped
 * @param requestTimeout the deadline of every request to etcd, so an unreachable server surfaces as
 *     {@link dev.fenced.lock.BackendUnavailableException} within this time
 */
public record EtcdLockConfig(List<String> endpoints, String keyPrefix, Duration requestTimeout) {

  public static final String DEFAULT_KEY_PREFIX = "/fenced/locks";
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

  public EtcdLockConfig {
    if (endpoints == null || endpoints.isEmpty()) {
      throw new IllegalArgumentException("endpoints must name at least one etcd client URL");
    }
    endpoints = List.copyOf(endpoints);
    for (String endpoint : endpoints) {
      checkEndpoint(endpoint);
    }
    keyPrefix = normalizePrefix(keyPrefix);
    Objects.requireNonNull(requestTimeout, "requestTimeout must be set");
    if (requestTimeout.isZero() || requestTimeout.isNegative()) {
      throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
    }
  }

  public EtcdLockConfig(List<String> endpoints, String keyPrefix) {
    this(endpoints, keyPrefix, DEFAULT_REQUEST_TIMEOUT);
  }

  /** The default key prefix and request timeout. */
  public static EtcdLockConfig of(String... endpoints) {
    return new EtcdLockConfig(List.of(endpoints), DEFAULT_KEY_PREFIX);
  }

  /** Endpoints given as one comma-separated string, as {@code FENCED_ETCD_ENDPOINTS} holds them. */
  public static EtcdLockConfig parse(String commaSeparatedEndpoints, String keyPrefix) {
    if (commaSeparatedEndpoints == null || commaSeparatedEndpoints.isBlank()) {
      throw new IllegalArgumentException("endpoints must name at least one etcd client URL");
    }
    List<String> endpoints =
        List.of(commaSeparatedEndpoints.split(",")).stream()
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .toList();
    return new EtcdLockConfig(endpoints, keyPrefix);
  }

  public EtcdLockConfig withRequestTimeout(Duration value) {
    return new EtcdLockConfig(endpoints, keyPrefix, value);
  }

  private static void checkEndpoint(String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      throw new IllegalArgumentException("endpoints must not contain a blank entry");
    }
    URI uri;
    try {
      uri = URI.create(endpoint.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoints: '" + endpoint + "' is not a URL", e);
    }
    if (uri.getHost() == null || uri.getScheme() == null) {
      throw new IllegalArgumentException(
          "endpoints: '" + endpoint + "' must look like http://host:2379");
    }
    if (!uri.getScheme().equals("http")) {
      throw new IllegalArgumentException(
          "endpoints: '" + endpoint + "' uses " + uri.getScheme() + "; only http is supported");
    }
  }

  private static String normalizePrefix(String prefix) {
    if (prefix == null || prefix.isBlank()) {
      return DEFAULT_KEY_PREFIX;
    }
    String p = prefix.trim();
    if (!p.startsWith("/")) {
      throw new IllegalArgumentException("keyPrefix must start with '/', was '" + prefix + "'");
    }
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    if (p.equals("/")) {
      throw new IllegalArgumentException(
          "keyPrefix must name a key below '/', was '" + prefix + "'");
    }
    for (int i = 0; i < p.length(); i++) {
      if (Character.isISOControl(p.charAt(i))) {
        throw new IllegalArgumentException("keyPrefix must not contain control characters");
      }
    }
    return p;
  }
}
