package dev.fenced.lock.fencing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
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
 * <p>A column is either set to the new value ({@link Builder#set}) or raised to it ({@link
 * Builder#raise}: {@code column = greatest(column, $n)}), for a value that must never go back, such
 * as a horizon that writers with different views move forward.
 *
 * <p>The fence checks the write, not a read before it. A value computed from a read ({@code count =
 * read + 1}) must read the row with {@code SELECT ... FOR UPDATE} in the same transaction (or be an
 * increment in the {@code SET} itself): an older holder's transaction that commits after this
 * holder's read but before its write passes its own fence (nobody newer has written yet), and a
 * plain read would then write over it. Taking the row first leaves two orders, both safe: the older
 * write committed first and is read, or it comes after and meets the newer fence.
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

  /** How one column takes its new value. */
  private enum Kind {
    SET,
    RAISE
  }

  private record Assignment(String column, Kind kind) {
    String sql(String placeholder) {
      return switch (kind) {
        case SET -> column + " = " + placeholder;
        case RAISE -> column + " = greatest(" + column + ", " + placeholder + ")";
      };
    }
  }

  private final String table;
  private final List<Assignment> assignments;
  private final List<String> keyColumns;
  private final String fenceColumn;
  private final String holderColumn;

  private FencedUpdate(
      String table,
      List<Assignment> assignments,
      List<String> keyColumns,
      String fenceColumn,
      String holderColumn) {
    this.table = identifier("table", table);
    this.assignments = List.copyOf(assignments);
    this.keyColumns = List.copyOf(keyColumns);
    this.fenceColumn = identifier("fence column", fenceColumn);
    this.holderColumn = holderColumn == null ? null : identifier("holder column", holderColumn);
    this.assignments.forEach(a -> identifier("set column", a.column()));
    this.keyColumns.forEach(c -> identifier("key column", c));
    if (this.assignments.isEmpty()) {
      throw new IllegalArgumentException("a fenced update needs at least one column to set");
    }
    Set<String> seen = new HashSet<>();
    for (Assignment a : this.assignments) {
      if (!seen.add(a.column())) {
        throw new IllegalArgumentException("column '" + a.column() + "' is assigned twice");
      }
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
    for (Assignment a : assignments) {
      sql.append(a.sql("$" + n++)).append(", ");
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

  /**
   * The update with every value given as an SQL expression of the caller's, for an update inside a
   * larger statement (a {@code WITH} clause whose other parts feed the new values), so that the
   * read, the write and whatever else the statement does cost one round trip:
   *
   * <pre>{@code
   * update.sqlWith(List.of("(SELECT count FROM read) + $3"), List.of("$1", "$2"), "$4", "$5")
   * }</pre>
   *
   * @param values one expression per column set or raised, in the builder's order
   * @param key one expression per key column, in the builder's order
   * @param token the token's expression (it appears three times)
   * @param holder the holder's expression with a holder column (it appears three times); null
   *     without one
   */
  public String sqlWith(List<String> values, List<String> key, String token, String holder) {
    checkArity(values, key);
    Objects.requireNonNull(token, "token");
    if ((holder == null) != (holderColumn == null)) {
      throw new IllegalArgumentException(
          holderColumn == null
              ? "this update has no holder column: pass no holder expression"
              : "this update checks the holder column '" + holderColumn + "': pass its expression");
    }
    StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
    for (int i = 0; i < assignments.size(); i++) {
      sql.append(assignments.get(i).sql(values.get(i))).append(", ");
    }
    sql.append(fenceColumn).append(" = ").append(token);
    if (holderColumn != null) {
      sql.append(", ").append(holderColumn).append(" = ").append(holder);
    }
    sql.append(" WHERE ");
    for (int i = 0; i < keyColumns.size(); i++) {
      sql.append(keyColumns.get(i)).append(" = ").append(key.get(i)).append(" AND ");
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
    for (Assignment a : assignments) {
      sql.append(a.sql("?")).append(", ");
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
    if (values.size() != assignments.size()) {
      List<String> columns = assignments.stream().map(Assignment::column).toList();
      throw new IllegalArgumentException(
          "expected " + columns.size() + " values for " + columns + ", got " + values.size());
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
    private final List<Assignment> assignments = new ArrayList<>();
    private List<String> where = List.of();

    private Builder(String table) {
      this.table = table;
    }

    /** Columns set to the new values; the values follow the order the columns are declared in. */
    public Builder set(String... columns) {
      for (String column : columns) {
        assignments.add(new Assignment(column, Kind.SET));
      }
      return this;
    }

    /**
     * Columns raised to the new values and never lowered: {@code column = greatest(column, $n)}.
     * The update still needs the fence to pass; the column then keeps the larger of the two.
     */
    public Builder raise(String... columns) {
      for (String column : columns) {
        assignments.add(new Assignment(column, Kind.RAISE));
      }
      return this;
    }

    public Builder where(String... columns) {
      this.where = List.of(columns);
      return this;
    }

    /** Guards with {@code fence <= token} alone: an equal token from any holder passes. */
    public FencedUpdate fence(String fenceColumn) {
      return new FencedUpdate(table, assignments, where, fenceColumn, null);
    }

    /**
     * Guards with the token and the holder: a larger token, or an equal token from the same hold.
     */
    public FencedUpdate fence(String fenceColumn, String holderColumn) {
      return new FencedUpdate(
          table,
          assignments,
          where,
          fenceColumn,
          Objects.requireNonNull(holderColumn, "holderColumn"));
    }
  }
}
