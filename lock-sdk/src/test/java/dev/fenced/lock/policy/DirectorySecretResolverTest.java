package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectorySecretResolverTest {

  @TempDir Path dir;

  private void put(String name, String key, String value) throws IOException {
    Files.createDirectories(dir.resolve(name));
    Files.writeString(dir.resolve(name).resolve(key), value);
  }

  @Test
  void readsKeysLaidOutLikeMountedSecrets() throws IOException {
    put("postgres", "username", "fenced");
    put("postgres", "password", "s3cret\n");
    SecretResolver secrets = new DirectorySecretResolver(dir);
    assertThat(secrets.find("postgres", "username")).contains("fenced");
    assertThat(secrets.require("postgres", "password")).isEqualTo("s3cret");
  }

  @Test
  void seesARotatedValue() throws IOException {
    put("redis", "password", "one");
    SecretResolver secrets = new DirectorySecretResolver(dir);
    assertThat(secrets.require("redis", "password")).isEqualTo("one");
    put("redis", "password", "two");
    assertThat(secrets.require("redis", "password")).isEqualTo("two");
  }

  @Test
  void aMissingSecretOrKeyIsNamedWithoutAnyValue() throws IOException {
    put("redis", "password", "s3cret");
    SecretResolver secrets = new DirectorySecretResolver(dir);
    assertThat(secrets.find("redis", "user")).isEmpty();
    assertThat(secrets.find("other", "password")).isEmpty();
    assertThatThrownBy(() -> secrets.require("redis", "user"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "Secret \"redis\" has no key \"user\" (secrets in " + dir.toAbsolutePath() + ")")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void namesThatWouldLeaveTheFolderAreRefused() {
    SecretResolver secrets = new DirectorySecretResolver(dir);
    assertThatThrownBy(() -> secrets.find("../etc", "passwd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("secret name must be a DNS subdomain");
    assertThatThrownBy(() -> secrets.find("redis", ".."))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("secret key must consist of");
    assertThatThrownBy(() -> secrets.find("redis", "a/b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
