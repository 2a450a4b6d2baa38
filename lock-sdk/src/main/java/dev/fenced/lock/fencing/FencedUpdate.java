package dev.fenced.lock.fencing;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A SQL {@code UPDATE} that only applies when the row's fence is not newer than the writer's token:
 *
 * <pre>{@code
 * UPDATE counters SET count = $1, fence = $2 WHERE poll = $3 AND option = $4 AND fence <= $2
 * }</pre>
 *
 * Zero rows updated means a newer holder has written already (or the row is missing): the writer is
 * stale and must roll back. The fence column must be {@code bigint NOT NULL}, starting at 0.
 *
 * <pre>{@code
 * FencedUpdate update = FencedUpdate.table("counters").set("count").where("poll", "option").fence("fence");
 * client.preparedQuery(update.sql()).execute(Tuple.from(update.params(List.of(n + 1), List.of(poll, option), token)))
 * }</pre>
 */
public final class FencedUpdate {

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private final String table;
  private final List<String> setColumns;
  private final List<String> keyColumns;
  private final String fenceColumn;

  private FencedUpdate(
      String table, List<String> setColumns, List<String> keyColumns, String fenceColumn) {
    this.table = identifier("table", table);
    this.setColumns = List.copyOf(setColumns);
    this.keyColumns = List.copyOf(keyColumns);
    this.fenceColumn = identifier("fence column", fenceColumn);
    this.setColumns.forEach(c -> identifier("set column", c));
    this.keyColumns.forEach(c -> identifier("key column", c));
    if (this.setColumns.isEmpty()) {
      throw new IllegalArgumentException("a fenced update needs at least one column to set");
    }
    if (this.keyColumns.isEmpty()) {
      throw new IllegalArgumentException("a fenced update needs at least one key column");
    }
  }

  /** Starts a builder for {@code table}. */
  public static Builder table(String table) {
    return new Builder(table);
  }

  /** PostgreSQL's numbered placeholders ({@code $1}), for the Vert.x and reactive clients. */
  public String sql() {
    StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
    int n = 1;
    for (String column : setColumns) {
      sql.append(column).append(" = $").append(n++).append(", ");
    }
    int tokenIndex = n++;
    sql.append(fenceColumn).append(" = $").append(tokenIndex).append(" WHERE ");
    for (String column : keyColumns) {
      sql.append(column).append(" = $").append(n++).append(" AND ");
    }
    sql.append(fenceColumn).append(" <= $").append(tokenIndex);
    return sql.toString();
  }

  /** The values for {@link #sql()}: the new values, the token, then the key. */
  public List<Object> params(List<?> values, List<?> key, long token) {
    checkArity(values, key);
    List<Object> params = new ArrayList<>(values);
    params.add(token);
    params.addAll(key);
    return params;
  }

  /** JDBC's {@code ?} placeholders. */
  public String jdbcSql() {
    StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
    for (String column : setColumns) {
      sql.append(column).append(" = ?, ");
    }
    sql.append(fenceColumn).append(" = ? WHERE ");
    for (String column : keyColumns) {
      sql.append(column).append(" = ? AND ");
    }
    sql.append(fenceColumn).append(" <= ?");
    return sql.toString();
  }

  /** The values for {@link #jdbcSql()}: the new values, the token, the key, the token again. */
  public List<Object> jdbcParams(List<?> values, List<?> key, long token) {
    List<Object> params = params(values, key, token);
    params.add(token);
    return params;
  }

  /**
   * @throws StaleFenceException when the update touched no row
   */
  public void requireApplied(int rowsUpdated, long token) {
    if (rowsUpdated == 0) {
      throw new StaleFenceException(table, token);
    }
  }

  private void checkArity(List<?> values, List<?> key) {
    Objects.requireNonNull(values, "values");
    Objects.requireNonNull(key, "key");
    if (values.size() != setColumns.size()) {
      throw new IllegalArgumentException(
          "expected " + setColumns.size() + " values for " + setColumns + ", got " + values.size());
    }
    if (key.size() != keyColumns.size()) {
      throw new IllegalArgumentException(
          "expected "
              + keyColumns.size()
              + " key values for "
              + keyColumns
              + ", got "
              + key.size());
    }
  }

  private static String identifier(String what, String name) {
    if (name == null || !IDENTIFIER.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " '" + name + "' is not a plain SQL identifier");
    }
    return name;
  }

  /** Builds a {@link FencedUpdate}. */
  public static final class Builder {
    private final String table;
    private List<String> set = List.of();
    private List<String> where = List.of();

    private Builder(String table) {
      this.table = table;
    }

    public Builder set(String... columns) {
      this.set = List.of(columns);
      return this;
    }

    public Builder where(String... columns) {
      this.where = List.of(columns);
      return this;
    }

    public FencedUpdate fence(String fenceColumn) {
      return new FencedUpdate(table, set, where, fenceColumn);
    }
  }
}
