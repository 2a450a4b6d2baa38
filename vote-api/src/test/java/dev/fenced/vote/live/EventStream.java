package dev.fenced.vote.live;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A server-sent event stream as a test reads it: the data of each event, in order. */
final class EventStream implements AutoCloseable {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final HttpResponse<Stream<String>> response;
  private final BlockingQueue<String> data = new LinkedBlockingQueue<>();
  private final Thread reader;

  private EventStream(HttpResponse<Stream<String>> response) {
    this.response = response;
    this.reader =
        new Thread(
            () -> {
              try {
                response
                    .body()
                    .filter(line -> line.startsWith("data:"))
                    .forEach(line -> data.add(line.substring("data:".length()).strip()));
              } catch (RuntimeException e) {
                // closed
              }
            },
            "sse-reader");
    reader.setDaemon(true);
    if (response.statusCode() == 200) {
      reader.start();
    }
  }

  /** Opens the stream; returns once the answer's head has arrived (with the first event). */
  static EventStream open(URI uri) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").GET().build();
    return new EventStream(
        CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).get(30, TimeUnit.SECONDS));
  }

  HttpResponse<Stream<String>> response() {
    return response;
  }

  /** The next event's data, waiting at most {@code wait}; fails when none comes. */
  String next(Duration wait) throws InterruptedException {
    String next = data.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    if (next == null) {
      throw new AssertionError("no event within " + wait + " from " + response.uri());
    }
    return next;
  }

  /** The next event whose data contains {@code text}, skipping others, within {@code wait}. */
  String nextContaining(String text, Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String next = data.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      if (next == null) {
        throw new AssertionError(
            "no event containing " + text + " within " + wait + " from " + response.uri());
      }
      if (next.contains(text)) {
        return next;
      }
    }
  }

  @Override
  public void close() {
    response.body().close();
    reader.interrupt();
  }
}
