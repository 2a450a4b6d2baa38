package dev.fenced.loadtest.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fenced.loadtest.Row;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One measurement of one run: what the run was ({@code meta}), which rows it set out to measure
 * ({@code plan}, so that a row that never came is seen), and the rows that came.
 *
 * <p>In a run's folder it is {@code meta.tsv} and {@code <kind>.meta.tsv} (what the run and this
 * measurement were, one {@code key<TAB>value} a line), {@code <kind>.plan} (a label a line) and
 * {@code <kind>.jsonl} (a row a line); kept next to the docs it is one JSON file, {@code
 * <kind>.json}, from which the docs' tables and charts are generated.
 *
 * @param kind which measurement
 * @param meta what the run was: date, commit, machine, settings
 * @param plan the labels of the rows the run set out to measure, in order
 * @param rows the vote rows that came (every kind but reads)
 * @param reads the read rows that came (reads)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Dataset(
    Kind kind, Map<String, String> meta, List<String> plan, List<Row> rows, List<ReadRow> reads) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public Dataset {
    meta = meta == null ? Map.of() : new LinkedHashMap<>(meta);
    plan = plan == null ? List.of() : List.copyOf(plan);
    rows = rows == null ? List.of() : List.copyOf(rows);
    reads = reads == null ? List.of() : List.copyOf(reads);
  }

  /** The measurement as a run left it in its folder; empty when the run did not make it. */
  public static Optional<Dataset> fromRun(Path dir, Kind kind) throws IOException {
    Path plan = dir.resolve(kind.id() + ".plan");
    if (!Files.exists(plan)) {
      return Optional.empty();
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (Path metaFile : List.of(dir.resolve("meta.tsv"), dir.resolve(kind.id() + ".meta.tsv"))) {
      if (Files.exists(metaFile)) {
        for (String line : Files.readAllLines(metaFile, StandardCharsets.UTF_8)) {
          int tab = line.indexOf('\t');
          if (tab > 0) {
            meta.put(line.substring(0, tab), line.substring(tab + 1));
          }
        }
      }
    }
    List<String> labels =
        Files.readAllLines(plan, StandardCharsets.UTF_8).stream()
            .filter(l -> !l.isBlank())
            .toList();
    Path rows = dir.resolve(kind.id() + ".jsonl");
    return Optional.of(
        kind == Kind.READS
            ? new Dataset(kind, meta, labels, List.of(), ReadRow.readAll(rows))
            : new Dataset(kind, meta, labels, Row.readAll(rows), List.of()));
  }

  public static Dataset read(Path file) throws IOException {
    return JSON.readValue(file.toFile(), Dataset.class);
  }

  public void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, JSON.writeValueAsString(this) + "\n", StandardCharsets.UTF_8);
  }

  /** The vote row of a label, if it came. */
  public Optional<Row> row(String label) {
    return rows.stream().filter(r -> r.label().equals(label)).findFirst();
  }

  /** The read row of a label, if it came. */
  public Optional<ReadRow> read(String label) {
    return reads.stream().filter(r -> r.label().equals(label)).findFirst();
  }
}
