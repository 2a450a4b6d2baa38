package dev.fenced.lock.zookeeper;

import dev.fenced.lock.support.NameEncoding;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.utils.ZKPaths;

/**
 * The node layout of one lock name: a persistent parent {@code <basePath>/<encoded name>} that
 * fenced never deletes, whose data is the name's fencing offset ({@link FenceFloor}), and one
 * ephemeral sequential child per holder or waiter, named {@code <owner id>-lock-<sequence>}: the
 * random owner id of the acquisition lets it find a node whose create was answered by a lost
 * connection (as Curator's {@code withProtection()} would, whose {@code _c_<uuid>-} names earlier
 * versions used; their sequences sort with these).
 *
 * <p>The parent is kept because ZooKeeper derives the sequence from the parent's child version, and
 * the offset plus that sequence is the fencing counter: a recreated parent starts again at 0, and
 * only its new offset keeps its tokens above the old ones.
 */
final class LockNodes {

  static final String CHILD_PREFIX = "lock-";

  private LockNodes() {}

  /** The persistent parent node of {@code name}. */
  static String parentPath(String basePath, String name) {
    return ZKPaths.makePath(basePath, encode(name));
  }

  /**
   * The path an acquisition creates its child with: the acquisition's owner id, so its node can be
   * found again when the answer to the create was lost, then {@value #CHILD_PREFIX}; ZooKeeper
   * appends the sequence.
   */
  static String childPrefixPath(String parentPath, String ownerId) {
    return ZKPaths.makePath(parentPath, ownerPrefix(ownerId) + CHILD_PREFIX);
  }

  /** How the names of one acquisition's children start. */
  static String ownerPrefix(String ownerId) {
    return ownerId + "-";
  }

  /**
   * A node name for any lock name ({@link dev.fenced.lock.LockNames}' rule): letters, digits,
   * {@code -_:} stay as they are, everything else becomes {@code %XX} of its UTF-8 bytes ({@link
   * NameEncoding}). So a name never contains '/', is never "." or "..", and holds none of the
   * characters ZooKeeper refuses; distinct names give distinct nodes.
   */
  static String encode(String name) {
    return NameEncoding.percentEncode(
        name, (b, i) -> NameEncoding.isAlphanumeric(b) || b == '-' || b == '_' || b == ':');
  }

  /**
   * The sequence ZooKeeper appended to a child's name, or -1 when the name is not one of ours. A
   * negative sequence (the parent's 32-bit child version wrapped) is reported as -1 too.
   */
  static long sequence(String nodeNameOrPath) {
    String node = nodeNameOrPath.substring(nodeNameOrPath.lastIndexOf('/') + 1);
    int at = node.lastIndexOf(CHILD_PREFIX);
    if (at < 0) {
      return -1;
    }
    String digits = node.substring(at + CHILD_PREFIX.length());
    if (digits.isEmpty() || digits.length() > 10) {
      return -1;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(digits);
  }

  /** Our children in sequence order (oldest first); foreign names are left out. */
  static List<String> sorted(List<String> children) {
    List<String> ours = new ArrayList<>(children.size());
    for (String child : children) {
      if (sequence(child) >= 0) {
        ours.add(child);
      }
    }
    ours.sort(Comparator.comparingLong(LockNodes::sequence));
    return ours;
  }
}
