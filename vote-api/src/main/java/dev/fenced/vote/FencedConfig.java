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
    /** The folder of LockPolicy YAML files (env {@code FENCED_POLICIES_DIR}). Required. */
    String dir();
  }

  interface Secrets {
    /**
     * The folder of Secrets the policies reference, laid out {@code <dir>/<secret>/<key>} (env
     * {@code FENCED_SECRETS_DIR}). Without it, policies that reference a Secret cannot be built.
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
