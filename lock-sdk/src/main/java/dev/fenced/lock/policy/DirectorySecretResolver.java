package dev.fenced.lock.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Secrets from a folder laid out like mounted Kubernetes Secrets: {@code <dir>/<secret name>/<key>}
 * holds the value. Files are read on every lookup, so a rotated value is seen at once. One trailing
 * newline is dropped, since files written with {@code echo} end in one and a secret value rarely
 * does.
 */
public final class DirectorySecretResolver implements SecretResolver {

  /** A Secret name: a DNS subdomain. */
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  /** A Secret key: letters, digits, '-', '_' and '.', as Kubernetes allows. */
  private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");

  private final Path directory;

  public DirectorySecretResolver(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
  }

  @Override
  public Optional<String> find(String name, String key) {
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
    Path file = directory.resolve(name).resolve(key);
    try {
      String value = Files.readString(file, StandardCharsets.UTF_8);
      if (value.endsWith("\r\n")) {
        value = value.substring(0, value.length() - 2);
      } else if (value.endsWith("\n")) {
        value = value.substring(0, value.length() - 1);
      }
      return Optional.of(value);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read key \"" + key + "\" of secret \"" + name + "\" from " + file, e);
    }
  }

  @Override
  public String toString() {
    return "secrets in " + directory;
  }
}
