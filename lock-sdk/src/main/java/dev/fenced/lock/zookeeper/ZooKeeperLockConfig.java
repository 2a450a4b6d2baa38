package dev.fenced.lock.zookeeper;

import java.time.Duration;
import java.util.Objects;
import org.apache.zookeeper.common.PathUtils;

/**
 * Where the ZooKeeper backend keeps its locks.
 *
 * @param connectString the ensemble, e.g. {@code zk-0:2181,zk-1:2181,zk-2:2181}, optionally with a
 *     chroot suffix
 * @param basePath the persistent node under which every lock name gets its own parent node; default
 *     {@value #DEFAULT_BASE_PATH}
 * @param operationTimeout how long one request may wait for a connection, retries included, before
 *     the call fails with {@link dev.fenced.lock.BackendUnavailableException}; default 3 s
 */
public record ZooKeeperLockConfig(
    String connectString, String basePath, Duration operationTimeout) {

  public static final String DEFAULT_BASE_PATH = "/fenced/locks";
  public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(3);

  public ZooKeeperLockConfig {
    if (connectString == null || connectString.isBlank()) {
      throw new IllegalArgumentException("connectString must not be blank");
    }
    basePath = checkBasePath(basePath == null ? DEFAULT_BASE_PATH : basePath);
    operationTimeout = operationTimeout == null ? DEFAULT_OPERATION_TIMEOUT : operationTimeout;
    if (operationTimeout.isZero() || operationTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "operationTimeout must be positive, was " + operationTimeout);
    }
    if (operationTimeout.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("operationTimeout is too long: " + operationTimeout);
    }
  }

  public ZooKeeperLockConfig(String connectString, String basePath) {
    this(connectString, basePath, DEFAULT_OPERATION_TIMEOUT);
  }

  public ZooKeeperLockConfig(String connectString) {
    this(connectString, DEFAULT_BASE_PATH, DEFAULT_OPERATION_TIMEOUT);
  }

  static String checkBasePath(String basePath) {
    Objects.requireNonNull(basePath, "basePath must be set");
    if (basePath.equals("/") || basePath.endsWith("/")) {
      throw new IllegalArgumentException(
          "basePath must be an absolute path below the root without a trailing '/', was '"
              + basePath
              + "'");
    }
    try {
      PathUtils.validatePath(basePath);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "basePath is not a valid ZooKeeper path: " + e.getMessage());
    }
    return basePath;
  }
}
