package dev.fenced.lock.support;

import dev.fenced.lock.LockNames;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How backends turn a lock name into their own keys, on top of the one rule of {@link LockNames}.
 * Every encoder takes the name's exact UTF-8 bytes from {@link #utf8}, which refuses what the rule
 * refuses instead of replacing it (Java's {@code getBytes} would turn every unpaired surrogate into
 * {@code ?} and make two names one key); backends whose keys allow only some characters
 * percent-encode the rest with {@link #percentEncode}, which maps distinct names to distinct keys.
 */
public final class NameEncoding {

  /** Which bytes of a name stay as they are; {@code index} is the byte's position in the name. */
  @FunctionalInterface
  public interface Plain {
    boolean keep(int octet, int index);
  }

  private NameEncoding() {}

  /**
   * The name's UTF-8 bytes.
   *
   * @throws IllegalArgumentException naming the field {@code name} when it breaks the rule of
   *     {@link LockNames}
   */
  public static byte[] utf8(String name) {
    LockNames.check(name);
    try {
      ByteBuffer bytes =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(name));
      return Arrays.copyOf(bytes.array(), bytes.limit());
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("name has no UTF-8 form: " + e.getMessage(), e);
    }
  }

  /**
   * The name with every UTF-8 byte that {@code plain} does not keep written as {@code %XX}
   * (upper-case hex). {@code %} itself must not be kept, so the result decodes to one name only.
   */
  public static String percentEncode(String name, Plain plain) {
    byte[] utf8 = utf8(name);
    StringBuilder out = new StringBuilder(utf8.length + 16);
    for (int i = 0; i < utf8.length; i++) {
      int b = utf8[i] & 0xff;
      if (b != '%' && plain.keep(b, i)) {
        out.append((char) b);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** ASCII letters and digits. */
  public static boolean isAlphanumeric(int b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
  }
}
