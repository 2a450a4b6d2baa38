package dev.fenced.lock;

/** Rules every lock name follows, whatever the backend. */
public final class LockNames {

  /**
   * Longest accepted name, in characters; long enough for {@code vote:{poll}:{option}} with
   * 128-character ids.
   */
  public static final int MAX_LENGTH = 512;

  private LockNames() {}

  /**
   * @throws IllegalArgumentException naming the problem when {@code name} is null, blank, too long
   *     or holds control characters
   */
  public static String check(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    if (name.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "name must be at most " + MAX_LENGTH + " characters, was " + name.length());
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.isISOControl(name.charAt(i))) {
        throw new IllegalArgumentException(
            "name must not contain control characters (found one at index " + i + ")");
      }
    }
    return name;
  }
}
