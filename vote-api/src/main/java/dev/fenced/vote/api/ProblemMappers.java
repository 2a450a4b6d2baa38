package dev.fenced.vote.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.PropertyBindingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error answer carries a {@link Problem}; a client's mistake is never a 500. */
public class ProblemMappers {

  private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

  @ServerExceptionMapper
  public Response problem(ProblemException e) {
    Response.ResponseBuilder answer = respond(e.problem());
    if (e.retryAfter() != null) {
      answer.header(HttpHeaders.RETRY_AFTER, Math.max(1, (e.retryAfter().toMillis() + 999) / 1000));
    }
    return answer.build();
  }

  /** Malformed JSON, an unknown field, a wrong type: 400 naming the field. */
  @ServerExceptionMapper(priority = 1)
  public Response json(JsonProcessingException e) {
    return respond(badJson(e)).build();
  }

  @ServerExceptionMapper(priority = 1)
  public Response mismatched(MismatchedInputException e) {
    return respond(badJson(e)).build();
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e) {
    Response r = e.getResponse();
    if (r.getStatus() < 400) {
      return r;
    }
    Throwable cause = e.getCause();
    if (cause instanceof JsonProcessingException json) {
      return respond(badJson(json)).build();
    }
    return respond(
            new Problem(r.getStatus(), r.getStatusInfo().getReasonPhrase(), e.getMessage(), null))
        .build();
  }

  @ServerExceptionMapper
  public Response unexpected(Exception e) {
    LOG.error("unexpected failure", e);
    return respond(
            new Problem(500, "Internal error", "the request failed; see the server log", null))
        .build();
  }

  static Problem badJson(JsonProcessingException e) {
    String field = "body";
    String detail;
    if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
      field = path(mapping);
    }
    if (e instanceof PropertyBindingException unknown) {
      detail =
          "unknown field '"
              + unknown.getPropertyName()
              + "'"
              + (unknown.getKnownPropertyIds() == null
                  ? ""
                  : "; known fields are "
                      + unknown.getKnownPropertyIds().stream()
                          .map(String::valueOf)
                          .sorted()
                          .collect(Collectors.joining(", ")));
    } else if (e instanceof InvalidFormatException || e instanceof MismatchedInputException) {
      detail =
          field + " has the wrong type" + (field.equals("body") ? ": expected a JSON object" : "");
    } else {
      detail = "malformed JSON: " + e.getOriginalMessage();
    }
    return new Problem(400, "Invalid request", detail, field);
  }

  private static String path(JsonMappingException e) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!out.isEmpty()) {
          out.append('.');
        }
        out.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        out.append('[').append(ref.getIndex()).append(']');
      }
    }
    return out.isEmpty() ? "body" : out.toString();
  }

  static Response.ResponseBuilder respond(Problem problem) {
    return Response.status(problem.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(problem);
  }
}
