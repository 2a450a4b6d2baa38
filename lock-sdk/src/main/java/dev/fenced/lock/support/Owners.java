package dev.fenced.lock.support;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Random owner ids: 128 bits, so one holder can never guess or reuse another's. */
public final class Owners {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Owners() {}

  public static String newOwnerId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
