package dev.fenced.tally;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/** A temporary policy folder with a Redis policy for {@code tally:*}, and quick worker timings. */
public class PolicyFolderResource implements QuarkusTestResourceLifecycleManager {

  private Path root;

  @Override
  public Map<String, String> start() {
    try {
      root = Files.createTempDirectory("tally-service-it");
      Path policies = Replica.redisPolicy(root, Duration.ofSeconds(2));
      return Map.of(
          "fenced.policies.dir", policies.toString(),
          "fenced.secrets.dir", root.resolve("secrets").toString(),
          "tally.fold-interval", "100ms",
          "tally.heartbeat-interval", "250ms",
          "tally.member-expiry", "1s");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void stop() {
    if (root == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind is harmless
    }
  }
}
