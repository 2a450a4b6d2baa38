package dev.fenced.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * Which tally-worker replica owns a poll's tally, from the replicas' {@code GET /api/tally/status}:
 * the one whose owned holds include the poll itself ({@code {"poll": ..., "token": ...}}) or the
 * poll's shard ({@code {"lock": "tally:shard-3-of-16", "token": ...}}; a poll's shard is the CRC-32
 * of its id's UTF-8 bytes modulo the shard count, docs/tally-worker.md).
 *
 * <pre>
 * TallyOwner --poll ID --worker NAME=STATUS-URL ...
 *     prints "NAME TOKEN" of the owner; exit 1 when no replica owns it
 * TallyOwner --poll ID --worker NAME=STATUS-URL ... --since EPOCH-MILLIS --wait-seconds N
 *     waits until one of the given replicas owns it (e.g. the survivors of a kill), then prints
 *     "NAME TOKEN MILLIS", MILLIS counted from --since; exit 1 when none did within the wait
 * </pre>
 */
public final class TallyOwner {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHARD_LOCK = Pattern.compile("shard-(\\d+)-of-(\\d+)$");

  /** The owner and the fencing token of its hold. */
  public record Owner(String worker, long token) {}

  private TallyOwner() {}

  /** The shard of a poll among {@code count}: as tally-worker computes it. */
  public static int shardOf(String poll, int count) {
    CRC32 crc = new CRC32();
    crc.update(poll.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % count);
  }

  /** The token of the hold through which this status's replica owns the poll, if it does. */
  public static Optional<Long> ownedToken(JsonNode status, String poll) {
    for (JsonNode held : status.path("owned")) {
      if (poll.equals(held.path("poll").asText(null))) {
        return Optional.of(held.path("token").asLong());
      }
      Matcher m = SHARD_LOCK.matcher(held.path("lock").asText(""));
      if (m.find() && shardOf(poll, Integer.parseInt(m.group(2))) == Integer.parseInt(m.group(1))) {
        return Optional.of(held.path("token").asLong());
      }
    }
    return Optional.empty();
  }

  public static void main(String[] args) throws InterruptedException {
    String poll = null;
    Long since = null;
    long waitSeconds = 0;
    Map<String, URI> workers = new LinkedHashMap<>();
    try {
      for (int i = 0; i + 1 < args.length; i += 2) {
        switch (args[i]) {
          case "--poll" -> poll = args[i + 1];
          case "--since" -> since = Long.parseLong(args[i + 1]);
          case "--wait-seconds" -> waitSeconds = Long.parseLong(args[i + 1]);
          case "--worker" -> {
            String[] nameUrl = args[i + 1].split("=", 2);
            if (nameUrl.length != 2) {
              throw new IllegalArgumentException("--worker must be NAME=URL, was " + args[i + 1]);
            }
            workers.put(nameUrl[0], URI.create(nameUrl[1]));
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (poll == null || workers.isEmpty() || args.length % 2 != 0) {
        throw new IllegalArgumentException("--poll and at least one --worker are required");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("tally-owner: " + e.getMessage());
      System.exit(2);
      return;
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.currentTimeMillis() + waitSeconds * 1000;
    while (true) {
      Optional<Owner> owner = find(http, workers, poll);
      if (owner.isPresent()) {
        System.out.println(
            owner.get().worker()
                + " "
                + owner.get().token()
                + (since == null ? "" : " " + (System.currentTimeMillis() - since)));
        System.exit(0);
      }
      if (System.currentTimeMillis() >= deadline) {
        System.err.println("tally-owner: no replica of " + workers.keySet() + " owns " + poll);
        System.exit(1);
      }
      Thread.sleep(100);
    }
  }

  private static Optional<Owner> find(HttpClient http, Map<String, URI> workers, String poll)
      throws InterruptedException {
    for (Map.Entry<String, URI> worker : workers.entrySet()) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(worker.getValue()).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          Optional<Long> token = ownedToken(JSON.readTree(response.body()), poll);
          if (token.isPresent()) {
            return Optional.of(new Owner(worker.getKey(), token.get()));
          }
        }
      } catch (IOException e) {
        // a replica not answering owns nothing we can see; ask the next
      }
    }
    return Optional.empty();
  }
}
