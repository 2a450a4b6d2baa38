package dev.fenced.lock.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy that can cut the network the way a partition does: while cut, it keeps every
 * connection open and silently drops every byte in both directions, and it accepts new connections
 * and drops their bytes too. A side that closes its connection during the cut is not heard of by
 * the other side either. Nobody gets a reset or a refusal, so both ends only learn of the cut from
 * their own timeouts, as they would if packets were lost on the wire. (Stopping a process does not
 * do this: the kernel keeps its socket buffers, and the stream carries on when it resumes.)
 *
 * <p>{@link #heal()} lets new connections through again and closes, with a FIN, the connections
 * whose bytes were dropped: their streams have holes, so their ends must reconnect, as they would
 * after timing out a long partition.
 *
 * <p>One file with no dependency, so it also runs on its own with the JDK's source launcher:
 *
 * <pre>{@code
 * java lock-sdk/src/test/java/dev/fenced/lock/testing/BlackHoleProxy.java \
 *     --listen 27210 --target 127.0.0.1:27201 --control 27211
 * }</pre>
 *
 * and is driven through its control port, one command per line, one answer per line: {@code cut},
 * {@code heal}, {@code heal-new} ({@link #healNewConnectionsOnly()}), {@code status} ({@code
 * passing|cut connections=N dropped=BYTES}), {@code quit}.
 */
public final class BlackHoleProxy implements AutoCloseable {

  private static final AtomicInteger THREADS = new AtomicInteger();

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean cut;
  private volatile boolean closed;

  private BlackHoleProxy(ServerSocket listener, InetSocketAddress target) {
    this.listener = listener;
    this.target = target;
  }

  /**
   * Listens on {@code listenPort} of the loopback address (0: any free port) and forwards to {@code
   * targetHost:targetPort}.
   */
  public static BlackHoleProxy start(int listenPort, String targetHost, int targetPort) {
    try {
      ServerSocket listener = new ServerSocket();
      listener.setReuseAddress(true);
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
      BlackHoleProxy proxy =
          new BlackHoleProxy(listener, new InetSocketAddress(targetHost, targetPort));
      daemon("accept " + listener.getLocalPort(), proxy::acceptLoop).start();
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on port " + listenPort, e);
    }
  }

  /** The port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  /** From now on every byte, of current and new connections, is dropped; nothing is closed. */
  public void cut() {
    cut = true;
  }

  /**
   * Bytes pass again: new connections are forwarded, and the connections that lost bytes are closed
   * (a FIN to both ends), since their streams have holes.
   */
  public void heal() {
    cut = false;
    for (Link link : links) {
      if (link.lostBytes) {
        link.close();
      }
    }
  }

  /**
   * Bytes pass again for new connections only: the connections that lost bytes stay open and keep
   * dropping everything, as half-open connections do behind a firewall that lost their state. Only
   * their ends' own timeouts can get rid of them.
   */
  public void healNewConnectionsOnly() {
    cut = false;
  }

  public boolean isCut() {
    return cut;
  }

  /** Bytes dropped so far, both directions. */
  public long droppedBytes() {
    return dropped.get();
  }

  /** Connections open now. */
  public int connections() {
    return links.size();
  }

  /** One line: {@code passing|cut connections=N dropped=BYTES}. */
  public String status() {
    return (cut ? "cut" : "passing")
        + " connections="
        + connections()
        + " dropped="
        + droppedBytes();
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    links.forEach(Link::close);
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      Link link = new Link(client);
      links.add(link);
      daemon("link " + client.getPort(), link::open).start();
    }
  }

  /** One client connection and its upstream connection, pumped both ways. */
  private final class Link {

    private final Socket client;
    private volatile Socket upstream;
    private volatile boolean lostBytes;

    Link(Socket client) {
      this.client = client;
    }

    void open() {
      try {
        client.setTcpNoDelay(true);
        if (cut) {
          // Born during the cut: accepted, and its bytes dropped; it never reaches the target.
          lostBytes = true;
          drain(client.getInputStream());
          return;
        }
        Socket up = new Socket();
        up.connect(target, 5_000);
        up.setTcpNoDelay(true);
        upstream = up;
        daemon("up " + client.getPort(), () -> pump(up, client)).start();
        pump(client, up);
      } catch (IOException e) {
        close();
      }
    }

    /** Reads from {@code from} until it ends; forwards to {@code to} unless the proxy is cut. */
    private void pump(Socket from, Socket to) {
      byte[] buffer = new byte[16 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (cut) {
            lostBytes = true;
            dropped.addAndGet(n);
            continue;
          }
          if (lostBytes) {
            // Healed, but this stream has a hole: it is closed by heal(); drop what still comes.
            dropped.addAndGet(n);
            continue;
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side went away
      }
      if (cut || lostBytes) {
        // The end of a stream (a FIN, a reset) is a packet too: while cut, the other side must not
        // hear of it. The link stays half dead until heal() closes it.
        lostBytes = true;
        return;
      }
      close();
    }

    /** Reads and drops until the connection ends or is closed. */
    private void drain(InputStream in) {
      byte[] buffer = new byte[16 * 1024];
      try {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          dropped.addAndGet(n);
        }
      } catch (IOException e) {
        // closed
      }
      close();
    }

    void close() {
      links.remove(this);
      closeQuietly(client);
      closeQuietly(upstream);
    }
  }

  private static void closeQuietly(Socket socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, "black-hole-proxy-" + name + "-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  }

  /**
   * {@code --listen PORT --target HOST:PORT [--control PORT]}: runs until killed or told {@code
   * quit}. Without {@code --control}, commands are read from standard input.
   */
  public static void main(String[] args) throws IOException {
    int listen = -1;
    String target = null;
    int control = -1;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--listen" -> listen = Integer.parseInt(args[i + 1]);
        case "--target" -> target = args[i + 1];
        case "--control" -> control = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (listen < 0 || target == null || target.lastIndexOf(':') < 1) {
      System.err.println("usage: BlackHoleProxy --listen PORT --target HOST:PORT [--control PORT]");
      System.exit(2);
    }
    int colon = target.lastIndexOf(':');
    BlackHoleProxy proxy =
        start(listen, target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
    Runtime.getRuntime().addShutdownHook(new Thread(proxy::close));
    System.out.println("listening on " + proxy.port() + " for " + target);
    System.out.flush();
    if (control < 0) {
      serve(
          proxy,
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
          new PrintWriter(System.out, true));
      proxy.close();
      return;
    }
    try (ServerSocket commands = new ServerSocket()) {
      commands.setReuseAddress(true);
      commands.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), control));
      while (!proxy.closed) {
        try (Socket s = commands.accept()) {
          boolean quit =
              serve(
                  proxy,
                  new BufferedReader(
                      new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)),
                  new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8));
          if (quit) {
            proxy.close();
          }
        }
      }
    }
  }

  /** Answers commands until the input ends; true when told to quit. */
  private static boolean serve(BlackHoleProxy proxy, BufferedReader in, PrintWriter out)
      throws IOException {
    String line;
    while ((line = in.readLine()) != null) {
      switch (line.strip()) {
        case "cut" -> {
          proxy.cut();
          out.println(proxy.status());
        }
        case "heal" -> {
          proxy.heal();
          out.println(proxy.status());
        }
        case "heal-new" -> {
          proxy.healNewConnectionsOnly();
          out.println(proxy.status());
        }
        case "status" -> out.println(proxy.status());
        case "quit" -> {
          out.println("bye");
          return true;
        }
        case "" -> {}
        default ->
            out.println(
                "unknown command: " + line.strip() + " (cut, heal, heal-new, status, quit)");
      }
    }
    return false;
  }
}
