package dev.fenced.vote.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses request bodies that announce more than {@value #MAX_BYTES} bytes before they are read,
 * with a {@link Problem} body; {@link JsonBodies} checks the bytes of those that announce nothing.
 */
public class BodyLimit {

  public static final int MAX_BYTES = 16 * 1024;

  @ServerRequestFilter(preMatching = true)
  public Response limit(HttpServerRequest request) {
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      return null;
    }
    long bytes;
    try {
      bytes = Long.parseLong(length.strip());
    } catch (NumberFormatException e) {
      return ProblemMappers.respond(
              new Problem(400, "Invalid request", "Content-Length is not a number", "body"))
          .build();
    }
    if (bytes > MAX_BYTES) {
      return ProblemMappers.respond(tooLarge(bytes).problem()).build();
    }
    return null;
  }

  static ProblemException tooLarge(long bytes) {
    return new ProblemException(
        new Problem(
            413,
            "Body too large",
            "the body has " + bytes + " bytes; at most " + MAX_BYTES + " are accepted",
            "body"),
        null,
        null);
  }
}
