package dev.fenced.lock.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Secrets from a folder laid out like mounted Kubernetes Secrets: {@code <dir>/<secret name>/<key>}
 * holds the value. Files are read on every lookup, so a rotated value is seen at once. One trailing
 * newline is dropped, since files written with {@code echo} end in one and a secret value rarely
 * does.
 */
public final class DirectorySecretResolver implements SecretResolver {

  private final Path directory;

  public DirectorySecretResolver(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
  }

  @Override
  public Optional<String> find(String name, String key) {
    SecretNames.check(name, key);
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
