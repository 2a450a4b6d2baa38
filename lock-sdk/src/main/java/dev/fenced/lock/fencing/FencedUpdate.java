package dev.fenced.lock.fencing;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A SQL {@code UPDATE} that only applies when the row was not written by a newer hold.
 *
 * <p>With a holder column (the form to use), a write goes through when its token is larger than the
 * stored one, or equal to it <em>and</em> from the same hold ({@link Fence}):
 *
 * <pre>{@code
 * UPDATE counters SET count = $1, fence = $2, fence_holder = $3
 *  WHERE poll = $4 AND option = $5
 *    AND (fence < $2 OR (fence = $2 AND (fence_holder = $3 OR fence_holder IS NULL)))
 * }</pre>
 *
 * so a token handed out twice (an asynchronous replica promoted before it had the last counter
 * increment, a re-created backend object) never lets two holders write. A row whose holder column
 * is {@code NULL} (never written, or written before the column existed) behaves as before: an equal
 * token passes, and from that write on the row knows its holder.
 *
 * <p>Without a holder column ({@link Builder#fence(String)}), the check is {@code fence <= token}:
 * an equal token from anyone passes, which is only safe while tokens never repeat.
 *
 * <p>Zero rows updated means a newer holder has written already (or the row is missing): the writer
 * is stale and must roll back. The fence column must be {@code bigint NOT NULL}, starting at 0; the
 * holder column {@code text}, nullable.
 *
 * <pre>{@code
 * FencedUpdate update = FencedUpdate.table("counters").set("count").where("poll", "option")
 *     .fence("fence", "fence_holder");
 * client.preparedQuery(update.sql())
 *     .execute(Tuple.from(update.params(List.of(n + 1), List.of(poll, option), Fence.of(hold))));
 * }</pre>
 */
public final class FencedUpdate {

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private final String table;
  private final List<String> setColumns;
  private final List<String> keyColumns;
  private final String fenceColumn;
  private final String holderColumn;

  private FencedUpdate(
      String table,
      List<String> setColumns,
      List<String> keyColumns,
      String fenceColumn,
      String holderColumn) {
    this.table = identifier("table", table);
    this.setColumns = List.copyOf(setColumns);
    this.keyColumns = List.copyOf(keyColumns);
    this.fenceColumn = identifier("fence column", fenceColumn);
    this.holderColumn = holderColumn == null ? null : identifier("holder column", holderColumn);
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

  /** Whether equal tokens are told apart by the holder ({@link Builder#fence(String, String)}). */
  public boolean checksHolder() {
    return holderColumn != null;
  }

  /**
   * PostgreSQL's numbered placeholders ({@code $1}), for the Vert.x and reactive clients: the new
   * values, the token, the holder (with a holder column), then the key.
   */
  public String sql() {
    StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
    int n = 1;
    for (String column : setColumns) {
      sql.append(column).append(" = $").append(n++).append(", ");
    }
    String token = "$" + n++;
    sql.append(fenceColumn).append(" = ").append(token);
    String holder = null;
    if (holderColumn != null) {
      holder = "$" + n++;
      sql.append(", ").append(holderColumn).append(" = ").append(holder);
    }
    sql.append(" WHERE ");
    for (String column : keyColumns) {
      sql.append(column).append(" = $").append(n++).append(" AND ");
    }
    return sql.append(guard(token, token, holder)).toString();
  }

  /** The values for {@link #sql()} of an update without a holder column. */
  public List<Object> params(List<?> values, List<?> key, long token) {
    requireNoHolder();
    checkArity(values, key);
    List<Object> params = new ArrayList<>(values);
    params.add(token);
    params.addAll(key);
    return params;
  }

  /** The values for {@link #sql()}: the new values, the token, the holder, then the key. */
  public List<Object> params(List<?> values, List<?> key, Fence fence) {
    Objects.requireNonNull(fence, "fence");
    if (holderColumn == null) {
      return params(values, key, fence.token());
    }
    checkArity(values, key);
    List<Object> params = new ArrayList<>(values);
    params.add(fence.token());
    params.add(fence.holder());
    params.addAll(key);
    return params;
  }

  /** JDBC's {@code ?} placeholders. */
  public String jdbcSql() {
    StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
    for (String column : setColumns) {
      sql.append(column).append(" = ?, ");
    }
    sql.append(fenceColumn).append(" = ?");
    if (holderColumn != null) {
      sql.append(", ").append(holderColumn).append(" = ?");
    }
    sql.append(" WHERE ");
    for (String column : keyColumns) {
      sql.append(column).append(" = ? AND ");
    }
    return sql.append(guard("?", "?", holderColumn == null ? null : "?")).toString();
  }

  /**
   * The values for {@link #jdbcSql()} of an update without a holder column: the new values, the
   * token, the key, the token again.
   */
  public List<Object> jdbcParams(List<?> values, List<?> key, long token) {
    List<Object> params = params(values, key, token);
    params.add(token);
    return params;
  }

  /**
   * The values for {@link #jdbcSql()}: the new values, token and holder, the key, then token, token
   * and holder for the guard.
   */
  public List<Object> jdbcParams(List<?> values, List<?> key, Fence fence) {
    List<Object> params = params(values, key, fence);
    params.add(fence.token());
    if (holderColumn != null) {
      params.add(fence.token());
      params.add(fence.holder());
    }
    return params;
  }

  private String guard(String token, String sameToken, String holder) {
    if (holder == null) {
      return fenceColumn + " <= " + token;
    }
    return "("
        + fenceColumn
        + " < "
        + token
        + " OR ("
        + fenceColumn
        + " = "
        + sameToken
        + " AND ("
        + holderColumn
        + " = "
        + holder
        + " OR "
        + holderColumn
        + " IS NULL)))";
  }

  private void requireNoHolder() {
    if (holderColumn != null) {
      throw new IllegalArgumentException(
          "this update checks the holder column '"
              + holderColumn
              + "': pass a Fence (token and holder), not a bare token");
    }
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

    /** Guards with {@code fence <= token} alone: an equal token from any holder passes. */
    public FencedUpdate fence(String fenceColumn) {
      return new FencedUpdate(table, set, where, fenceColumn, null);
    }

    /**
     * Guards with the token and the holder: a larger token, or an equal token from the same hold.
     */
    public FencedUpdate fence(String fenceColumn, String holderColumn) {
      return new FencedUpdate(
          table, set, where, fenceColumn, Objects.requireNonNull(holderColumn, "holderColumn"));
    }
  }
}
