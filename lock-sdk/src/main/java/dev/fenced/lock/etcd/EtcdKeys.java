package dev.fenced.lock.etcd;

import dev.fenced.lock.support.NameEncoding;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;

/**
 * The key layout: one waiter key per acquire, {@code <prefix>/<encoded name>/<lease id hex>-<owner
 * id>}, so every waiter of a lock lives under {@code <prefix>/<encoded name>/}. The lease is shared
 * by all acquires of a service; the owner id (random, one per acquire) keeps two acquires of one
 * service on one lock apart.
 *
 * <p>Names follow {@link dev.fenced.lock.LockNames}' rule and are percent-encoded (UTF-8, {@link
 * NameEncoding}) except for letters, digits and {@code - _ . ~ : @}, so a {@code /} in a name can
 * never make one lock's directory a prefix of another's. A leading {@code .} is encoded too, which
 * leaves the keys {@code <prefix>/.something} to the service itself (the provisioning marker).
 */
final class EtcdKeys {

  private final String prefix;

  EtcdKeys(String prefix) {
    this.prefix = prefix;
  }

  /** The directory under which all waiters of {@code name} live, with its trailing slash. */
  ByteSequence lockDir(String name) {
    return bytes(prefix + "/" + encode(name) + "/");
  }

  /** The waiter key of one acquire, named after its service's lease and its own owner id. */
  ByteSequence waiterKey(String name, long leaseId, String ownerId) {
    return bytes(
        prefix
            + "/"
            + encode(name)
            + "/"
            + String.format("%016x", leaseId)
            + "-"
            + encode(ownerId));
  }

  /** The provisioning marker. */
  ByteSequence marker() {
    return bytes(prefix + "/.policy");
  }

  String prefix() {
    return prefix;
  }

  static ByteSequence bytes(String value) {
    return ByteSequence.from(value, StandardCharsets.UTF_8);
  }

  static String encode(String name) {
    return NameEncoding.percentEncode(
        name,
        (b, i) ->
            NameEncoding.isAlphanumeric(b)
                || b == '-'
                || b == '_'
                || b == '~'
                || b == ':'
                || b == '@'
                || (b == '.' && i > 0));
  }

  /** The record of the policy {@code <namespace>/<name>}. */
  ByteSequence policyRecord(String policy) {
    return bytes(prefix + "/.policies/" + policy);
  }

  /** Where every policy record lives. */
  ByteSequence policyRecords() {
    return bytes(prefix + "/.policies/");
  }
}
