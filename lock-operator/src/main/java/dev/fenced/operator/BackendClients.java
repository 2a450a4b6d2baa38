package dev.fenced.operator;

import dev.fenced.lock.LockAdmin;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.policy.LockServiceFactory;
import dev.fenced.lock.policy.SecretResolver;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.support.LeaseKeeper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * One lock-sdk service (and so one backend client) per distinct backend endpoint and credentials,
 * shared by every policy that points there and reused across reconciles. A client is closed when
 * the last policy using it moves away or is deleted, and on shutdown.
 *
 * <p>The cache key is the {@link BackendIdentity} plus a SHA-256 digest of the credentials, held in
 * memory only, so a rotated password gets a fresh client.
 */
@ApplicationScoped
public class BackendClients {

  private static final Logger LOG = Logger.getLogger(BackendClients.class);

  private final Vertx vertx;
  private final KubernetesClient kubernetes;
  private final LeaseKeeper keeper = new LeaseKeeper();
  private final Map<String, ManagedLockService> services = new HashMap<>();
  private final Map<String, Set<String>> users = new HashMap<>();
  private final Map<String, String> keyOfPolicy = new HashMap<>();

  BackendClients(Vertx vertx, KubernetesClient kubernetes) {
    this.vertx = vertx;
    this.kubernetes = kubernetes;
  }

  /**
   * The administration of {@code policy}'s backend (the operator takes no lock), its service
   * created on first use. The policy (by uid) is counted as a user of it until {@link
   * #release(String)} or until it asks for another backend.
   *
   * @param credentials the values of the Secret keys the policy references, in {@link
   *     SecretRefs#of} order
   * @throws dev.fenced.lock.InvalidLockPolicyException when the service cannot be built
   */
  synchronized LockAdmin serviceFor(
      String uid, LockPolicy policy, SecretResolver secrets, List<String> credentials) {
    String key = BackendIdentity.of(policy) + "#" + digest(credentials);
    String previous = keyOfPolicy.get(uid);
    if (previous != null && !previous.equals(key)) {
      release(uid);
    }
    ManagedLockService service = services.get(key);
    if (service == null) {
      service = new LockServiceFactory(vertx, secrets, () -> kubernetes, keeper).create(policy);
      services.put(key, service);
      LOG.infof("connected to %s", BackendIdentity.of(policy));
    }
    users.computeIfAbsent(key, k -> new HashSet<>()).add(uid);
    keyOfPolicy.put(uid, key);
    return service;
  }

  /**
   * The service the policy used until now, when it was for another backend identity than {@code
   * identity} (the policy moved); null otherwise. Valid until {@link #serviceFor} or {@link
   * #release} for the policy.
   */
  synchronized LockAdmin movedFrom(String uid, String identity) {
    String key = keyOfPolicy.get(uid);
    if (key == null || key.startsWith(identity + "#")) {
      return null;
    }
    return services.get(key);
  }

  /** The policy no longer uses its backend; the client closes when nobody else does. */
  synchronized void release(String uid) {
    String key = keyOfPolicy.remove(uid);
    if (key == null) {
      return;
    }
    Set<String> left = users.get(key);
    if (left != null) {
      left.remove(uid);
      if (left.isEmpty()) {
        users.remove(key);
        ManagedLockService service = services.remove(key);
        if (service != null) {
          LOG.infof("closing the unused client of %s", key.substring(0, key.indexOf('#')));
          closeQuietly(service);
        }
      }
    }
  }

  /** How many clients are open; for tests. */
  synchronized int openClients() {
    return services.size();
  }

  @PreDestroy
  synchronized void closeAll() {
    services.values().forEach(BackendClients::closeQuietly);
    services.clear();
    users.clear();
    keyOfPolicy.clear();
    keeper.close();
  }

  private static void closeQuietly(ManagedLockService service) {
    try {
      service.close();
    } catch (RuntimeException e) {
      LOG.debugf(e, "closing %s failed", service.backend());
    }
  }

  private static String digest(List<String> credentials) {
    if (credentials.isEmpty()) {
      return "-";
    }
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String value : credentials) {
        sha.update(value.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
