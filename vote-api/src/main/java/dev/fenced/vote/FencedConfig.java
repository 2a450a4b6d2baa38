package dev.fenced.vote;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The service's own settings ({@code fenced.*}; environment {@code FENCED_*}). */
@ConfigMapping(prefix = "fenced")
public interface FencedConfig {

  Policies policies();

  Secrets secrets();

  Vote vote();

  Db db();

  Pg pg();

  /** Where PostgreSQL is (env {@code FENCED_PG_HOST}, {@code _PORT}, {@code _DATABASE}). */
  interface Pg {
    @WithDefault("127.0.0.1")
    String host();

    @WithDefault("15432")
    int port();

    @WithDefault("fenced")
    String database();
  }

  interface Db {
    /** The time limit of one attempt at a poll or result query (retried when transient). */
    @WithDefault("5s")
    Duration timeout();
  }

  interface Policies {
    /**
     * Where policies come from: {@code kubernetes}, {@code directory} or {@code auto} (env {@code
     * FENCED_POLICY_SOURCE}); auto is kubernetes inside a pod, directory elsewhere.
     */
    @WithDefault("auto")
    String source();

    /**
     * The namespace whose LockPolicies and Secrets are read (env {@code FENCED_POLICY_NAMESPACE});
     * default: the Kubernetes client's namespace, in a pod its own.
     */
    Optional<String> namespace();

    /**
     * The folder of LockPolicy YAML files (env {@code FENCED_POLICIES_DIR}); required with the
     * directory source.
     */
    Optional<String> dir();
  }

  interface Secrets {
    /**
     * The folder of Secrets the policies reference, laid out {@code <dir>/<secret>/<key>} (env
     * {@code FENCED_SECRETS_DIR}), used with the directory source; without it, such policies cannot
     * be built. With the kubernetes source Secrets are read from the policies' namespace.
     */
    Optional<String> dir();
  }

  interface Vote {
    /**
     * PostgreSQL's {@code statement_timeout} inside the vote transaction: the server, not the
     * client, gives up, so a timed-out vote is rolled back and never half recorded.
     */
    @WithDefault("5s")
    Duration statementTimeout();

    /** The {@code Retry-After} of a 503 answer. */
    @WithDefault("1s")
    Duration retryAfter();
  }
}
