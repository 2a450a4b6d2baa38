package dev.fenced.vote.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;

/**
 * Reads request bodies from their bytes, so a body over {@value BodyLimit#MAX_BYTES} bytes is
 * answered with a {@link Problem} whether or not it announced its length, and every JSON mistake
 * names its field.
 */
@ApplicationScoped
public class JsonBodies {

  private final ObjectMapper mapper;

  JsonBodies(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** The body as {@code type}, or null when it is empty. */
  public <T> T read(byte[] body, Class<T> type) {
    if (body == null || body.length == 0) {
      return null;
    }
    if (body.length > BodyLimit.MAX_BYTES) {
      throw BodyLimit.tooLarge(body.length);
    }
    try {
      return mapper.readValue(body, type);
    } catch (JsonProcessingException e) {
      throw new ProblemException(ProblemMappers.badJson(e), null, e);
    } catch (IOException e) {
      throw ProblemException.badRequest("body", "the body could not be read: " + e.getMessage());
    }
  }
}
