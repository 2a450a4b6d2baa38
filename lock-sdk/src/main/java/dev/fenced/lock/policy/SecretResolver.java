package dev.fenced.lock.policy;

import java.util.Optional;

/**
 * Looks up one key of a Secret that a LockPolicy references. Implementations never log or echo a
 * value; messages name the Secret and the key only.
 */
public interface SecretResolver {

  /**
   * The value of {@code key} in the Secret {@code name}, or empty when the Secret or the key does
   * not exist.
   *
   * @throws IllegalArgumentException when {@code name} or {@code key} is not a valid Secret name or
   *     key
   */
  Optional<String> find(String name, String key);

  /**
   * The value of {@code key} in the Secret {@code name}.
   *
   * @throws IllegalStateException naming the Secret and key when either is missing
   */
  default String require(String name, String key) {
    return find(name, key)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "Secret \"" + name + "\" has no key \"" + key + "\" (" + this + ")"));
  }
}
