package dev.fenced.vote.live;

import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The name of this vote-api replica as the page shows it: the environment's {@code FENCED_INSTANCE}
 * (scripts/local-run.sh sets it), else {@code HOSTNAME} (the pod's name in Kubernetes), else the
 * host name.
 */
@ApplicationScoped
public class Replica {

  private final String name;

  Replica() {
    this.name = env("FENCED_INSTANCE").or(() -> env("HOSTNAME")).orElseGet(Replica::hostName);
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).filter(s -> !s.isBlank());
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }

  public String name() {
    return name;
  }
}
