package dev.fenced.lock.policy;

import java.util.regex.Pattern;

/**
 * The names a Secret and its keys may have, checked the same way by every {@link SecretResolver}.
 */
final class SecretNames {

  /** A Secret name: a DNS subdomain. */
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  /** A Secret key: letters, digits, '-', '_' and '.', as Kubernetes allows. */
  private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");

  private SecretNames() {}

  /**
   * @throws IllegalArgumentException naming what is wrong with {@code name} or {@code key}
   */
  static void check(String name, String key) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "secret name must be a DNS subdomain (lower-case letters, digits, '-' and '.'), was \""
              + name
              + "\"");
    }
    if (key == null || !KEY.matcher(key).matches() || key.equals(".") || key.equals("..")) {
      throw new IllegalArgumentException(
          "secret key must consist of letters, digits, '-', '_' and '.', was \"" + key + "\"");
    }
  }
}
