package dev.fenced.lock.etcd;

import dev.fenced.lock.support.NameEncoding;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;

/**
 * The key layout: one waiter key per acquire, {@code <prefix>/<encoded name>/<lease id
 * hex>-<slot>}, so every waiter of a lock lives under {@code <prefix>/<encoded name>/}. The lease
 * is shared by all acquires of a service; the slot (the lowest number no live key of the service on
 * that lock uses, see {@link EtcdSessionLease#takeSlot}) keeps two acquires of one service on one
 * lock apart, and lets the service write the same few key names again for every hold. The key's
 * value is the acquire's random owner id: whose key it is.
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

  /** The waiter key of one acquire, named after its service's lease and its slot on the lock. */
  ByteSequence waiterKey(String name, long leaseId, int slot) {
    return bytes(prefix + "/" + encode(name) + "/" + String.format("%016x", leaseId) + "-" + slot);
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

  /** The ledger of the policies that used this prefix; kept by deprovisioning. */
  ByteSequence ledger() {
    return bytes(prefix + "/.ledger");
  }

  /** Just past the ledger key: the start of the keys after it. */
  ByteSequence afterLedger() {
    return bytes(prefix + "/.ledger\0");
  }

  /** Just past every key under the prefix ({@code '/' + 1 == '0'}). */
  ByteSequence afterEverything() {
    return bytes(prefix + "0");
  }

  /** Every key of this service: the marker, the ledger and the waiters. */
  ByteSequence everything() {
    return bytes(prefix + "/");
  }
}
