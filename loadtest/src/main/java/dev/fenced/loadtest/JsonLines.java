package dev.fenced.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Files of one JSON object a line, as the rows of a comparison are kept while a run goes on. */
public final class JsonLines {

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonLines() {}

  /** Appends {@code value} as one line, creating the file (and its folder) when needed. */
  public static void append(Path file, Object value) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(
        file,
        JSON.writeValueAsString(value) + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** Every line of the file as a {@code type}; none when the file does not exist. */
  public static <T> List<T> read(Path file, Class<T> type) throws IOException {
    List<T> values = new ArrayList<>();
    if (!Files.exists(file)) {
      return values;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        values.add(JSON.readValue(line, type));
      }
    }
    return values;
  }
}
