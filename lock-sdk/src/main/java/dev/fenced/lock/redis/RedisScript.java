package dev.fenced.lock.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Lua script run by its SHA ({@code EVALSHA}), sent in full ({@code EVAL}) only when the server
 * answers {@code NOSCRIPT}: the script cache is empty after a restart, a {@code SCRIPT FLUSH} or a
 * failover, and nobody has to load it again by hand.
 */
final class RedisScript {

  private final String name;
  private final String source;
  private final String sha;

  RedisScript(String name, String source) {
    this.name = name;
    this.source = source;
    this.sha = sha1(source);
  }

  String name() {
    return name;
  }

  String source() {
    return source;
  }

  /** The SHA-1 Redis knows the script by. */
  String sha() {
    return sha;
  }

  /** Runs the script: one round trip, two when the server has to be sent the source first. */
  Future<Response> run(Redis client, long timeoutMillis, List<String> keys, List<String> args) {
    return client
        .send(request(Command.EVALSHA, sha, keys, args))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .recover(
            error ->
                isNoScript(error)
                    ? client
                        .send(request(Command.EVAL, source, keys, args))
                        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    : Future.failedFuture(error));
  }

  /** {@code SCRIPT LOAD}: idempotent, the server keeps one copy per SHA. */
  Future<Void> load(Redis client, long timeoutMillis) {
    return client
        .send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(source))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .compose(
            loaded ->
                sha.equals(loaded.toString())
                    ? Future.succeededFuture()
                    : Future.failedFuture(
                        new IllegalStateException(
                            "Redis loaded script '"
                                + name
                                + "' as "
                                + loaded
                                + ", expected "
                                + sha)));
  }

  private static Request request(
      Command command, String script, List<String> keys, List<String> args) {
    Request request = Request.cmd(command).arg(script).arg(keys.size());
    keys.forEach(request::arg);
    args.forEach(request::arg);
    return request;
  }

  private static boolean isNoScript(Throwable error) {
    String message = error.getMessage();
    return message != null && message.startsWith("NOSCRIPT");
  }

  private static String sha1(String source) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-1");
      return HexFormat.of().formatHex(digest.digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
  }
}
