package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.redis.RedisLockService;
import io.vertx.core.Vertx;
import java.time.Duration;
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
    try (ManagedLockService viaSentinel =
            factory.create(
                Policies.read(
                    Policies.yaml(
                        "s",
                        "Redis",
                        "redis:\n  sentinel:\n    masterName: cache\n    nodes: [\"127.0.0.1:1\"]",
                        "s:*")));
        ManagedLockService viaUrl =
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

  private static final String SHORT_LEASE =
      """
      apiVersion: locks.fenced.dev/v1alpha1
      kind: LockPolicy
      metadata:
        name: short
        namespace: voting
      spec:
        lockNames: ["s:*"]
        leaseDuration: 2s
        renewInterval: 1500ms
        backend:
          type: InProcess
      """;

  /**
   * The service's clock-drift setting reaches every hold it builds: the local deadline moves by
   * that share of the lease. Without it, every service trusts a hold for 99% of its lease.
   */
  @Test
  void everyServiceBuiltUsesTheFactorysClockDrift() {
    Vertx vertx = Vertx.vertx();
    LockServiceFactory plain = new LockServiceFactory(vertx, NO_SECRETS, null, null);
    LockServiceFactory wide = plain.withClockDrift(0.2);
    try (ManagedLockService byDefault = plain.create(Policies.read(SHORT_LEASE));
        ManagedLockService drifting = wide.create(Policies.read(SHORT_LEASE))) {
      assertThat(byDefault.settings().clockDrift()).isEqualTo(LockSettings.DEFAULT_CLOCK_DRIFT);
      assertThat(byDefault.settings().trustedLease()).isEqualTo(Duration.ofMillis(1980));
      assertThat(drifting.settings().clockDrift()).isEqualTo(0.2);
      assertThat(drifting.settings().trustedLease()).isEqualTo(Duration.ofMillis(1600));
      assertThat(wide.withRedisClients(url -> null).clockDrift()).isEqualTo(0.2);
    } finally {
      vertx.close();
    }
  }

  /**
   * A drift out of range is refused when it is set; one that leaves a policy's renewals no room
   * refuses that policy by name and says what to change, as any other invalid policy.
   */
  @Test
  void aClockDriftThatLeavesNoRoomIsRefusedByName() {
    Vertx vertx = Vertx.vertx();
    try {
      LockServiceFactory plain = new LockServiceFactory(vertx, NO_SECRETS, null, null);
      assertThatThrownBy(() -> plain.withClockDrift(0.5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("clockDrift");
      assertThatThrownBy(() -> plain.withClockDrift(-0.01))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> plain.withClockDrift(0.3).create(Policies.read(SHORT_LEASE)))
          .isInstanceOf(InvalidLockPolicyException.class)
          .hasMessageContaining("voting/short")
          .hasMessageContaining("clock-drift margin of 0.3")
          .hasMessageContaining("renewInterval (PT1.5S)");
    } finally {
      vertx.close();
    }
  }
}
