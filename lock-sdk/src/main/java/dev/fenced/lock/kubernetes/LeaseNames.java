package dev.fenced.lock.kubernetes;

import dev.fenced.lock.support.NameEncoding;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Lock names to Lease object names. A lock name may hold any printable character and be 512
 * characters long; a Lease name must be a DNS-1123 subdomain. The Lease name is a readable,
 * sanitised prefix of the lock name plus a hash of the whole original name, so names that sanitise
 * alike ({@code Vote:A} and {@code vote-a}) still get different Leases. The original name is kept
 * in an annotation and checked on every acquire, so even a hash collision cannot make two names
 * share a Lease silently.
 */
public final class LeaseNames {

  /** Lease names are kept within a DNS-1123 label's 63 characters, the strictest limit. */
  public static final int MAX_LENGTH = 63;

  /** Hex characters of SHA-256 kept: 48 bits. */
  static final int HASH_LENGTH = 12;

  private LeaseNames() {}

  /** The Lease name for {@code lockName}: lower-case, {@code [a-z0-9-]}, at most 63 characters. */
  public static String leaseName(String lockName) {
    String hash = hash(lockName);
    StringBuilder readable = new StringBuilder();
    boolean dash = false;
    for (char c : lockName.toLowerCase(Locale.ROOT).toCharArray()) {
      boolean plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (plain) {
        readable.append(c);
        dash = false;
      } else if (!dash && readable.length() > 0) {
        readable.append('-');
        dash = true;
      }
    }
    int room = MAX_LENGTH - HASH_LENGTH - 1;
    if (readable.length() > room) {
      readable.setLength(room);
    }
    while (readable.length() > 0 && readable.charAt(readable.length() - 1) == '-') {
      readable.setLength(readable.length() - 1);
    }
    return (readable.length() == 0 ? "lock" : readable.toString()) + "-" + hash;
  }

  private static String hash(String lockName) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(NameEncoding.utf8(lockName));
      return HexFormat.of().formatHex(digest).substring(0, HASH_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
