package dev.fenced.lock;

import java.time.Duration;

/**
 * What a reachability probe found.
 *
 * @param backend the backend's name
 * @param reachable whether the backend answered
 * @param latency the round trip of the probe, or null when unreachable
 * @param durableFencing whether fencing tokens survive a restart of the backend server (false for
 *     Redis without AOF, for example)
 * @param detail one sentence: server version, or what failed
 */
public record BackendProbe(
    String backend, boolean reachable, Duration latency, boolean durableFencing, String detail) {

  public static BackendProbe up(String backend, Duration latency, boolean durable, String detail) {
    return new BackendProbe(backend, true, latency, durable, detail);
  }

  public static BackendProbe down(String backend, Throwable cause) {
    return new BackendProbe(
        backend, false, null, false, BackendUnavailableException.describe(cause));
  }
}
