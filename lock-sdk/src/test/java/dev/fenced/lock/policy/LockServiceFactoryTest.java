package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.redis.RedisLockService;
import dev.fenced.lock.support.AbstractLockService;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LockServiceFactoryTest {

  private static final SecretResolver NO_SECRETS = (name, key) -> Optional.empty();

  /**
   * A service that hands the factory its own Redis clients (vote-api, with the Quarkus-managed one)
   * is asked for a client by URL; a policy that names Sentinels gets a client of its own, which
   * follows the primary they name, and the application is never asked.
   */
  @Test
  void aSentinelPolicyGetsItsOwnClientAndTheApplicationsIsNotAsked() {
    Vertx vertx = Vertx.vertx();
    List<String> asked = new ArrayList<>();
    LockServiceFactory factory =
        new LockServiceFactory(vertx, NO_SECRETS, null, null)
            .withRedisClients(
                url -> {
                  asked.add(url);
                  return null;
                });
    try (AbstractLockService viaSentinel =
            factory.create(
                Policies.read(
                    Policies.yaml(
                        "s",
                        "Redis",
                        "redis:\n  sentinel:\n    masterName: cache\n    nodes: [\"127.0.0.1:1\"]",
                        "s:*")));
        AbstractLockService viaUrl =
            factory.create(
                Policies.read(
                    Policies.yaml("u", "Redis", "redis:\n  url: redis://127.0.0.1:1", "u:*")))) {
      assertThat(viaSentinel).isInstanceOf(RedisLockService.class);
      assertThat(viaUrl).isInstanceOf(RedisLockService.class);
      assertThat(asked).containsExactly("redis://127.0.0.1:1");
    } finally {
      vertx.close();
    }
  }
}
