package dev.fenced.lock.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} of this test's own (the Debian package that {@code
 * scripts/backends.sh} installs), on a free port, with no persistence at all: no AOF, no RDB. It
 * stands for a Redis run as a cache, and {@link #restart()} is what such a server goes through on a
 * crash: every key, fence counters included, is gone.
 */
public final class ScratchRedis implements AutoCloseable {

  private final int port;
  private final Path dir;
  private Process process;

  private ScratchRedis(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  /** Starts a server and waits until it answers. */
  public static ScratchRedis start() {
    try {
      ScratchRedis redis =
          new ScratchRedis(freePort(), Files.createTempDirectory("fenced-scratch-redis"));
      redis.launch();
      return redis;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Kills the server (SIGKILL) and starts it again on the same port, empty. */
  public void restart() {
    kill();
    launch();
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  @Override
  public void close() {
    kill();
  }

  private void launch() {
    try {
      process =
          new ProcessBuilder(
                  List.of(
                      "redis-server",
                      "--port",
                      Integer.toString(port),
                      "--bind",
                      "127.0.0.1",
                      "--dir",
                      dir.toString(),
                      "--save",
                      "",
                      "--appendonly",
                      "no",
                      "--protected-mode",
                      "no"))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("redis.log").toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start redis-server (is it installed?)", e);
    }
    awaitPort(port, Duration.ofSeconds(20));
  }

  /** Waits until something accepts connections on {@code port}. */
  public static void awaitPort(int port, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("nothing listens on port " + port + " after " + limit);
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(ie);
        }
      }
    }
  }

  /** A port nobody listens on right now. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
