package dev.fenced.vote.live;

import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The name of this vote-api replica as the page shows it: {@code fenced.instance} (env {@code
 * FENCED_INSTANCE}, which scripts/local-run.sh sets), else {@code HOSTNAME} (the pod's name in
 * Kubernetes), else the host name.
 */
@ApplicationScoped
public class Replica {

  private final String name;

  Replica(@ConfigProperty(name = "fenced.instance") Optional<String> instance) {
    this.name =
        instance
            .filter(s -> !s.isBlank())
            .or(() -> Optional.ofNullable(System.getenv("HOSTNAME")).filter(s -> !s.isBlank()))
            .orElseGet(Replica::hostName);
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
