package dev.fenced.lock.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A backend's ledger: one entry per LockPolicy that ever used it (by {@code <namespace>/<name>}),
 * kept on the backend itself and never removed with a policy, so the epochs it records survive the
 * LockPolicy objects. Immutable; stored as one line of JSON:
 *
 * <pre>{@code
 * {"policies":{"voting/counters":{"uid":"...","backend":"Redis","generation":3,"epoch":2,
 *   "incarnation":"redis run_id=... marker=...","progress":-1,"retired":false}}}
 * }</pre>
 */
public final class Ledger {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A ledger with no entry, as an unprovisioned (or wiped) backend has. */
  public static final Ledger EMPTY = new Ledger(Map.of());

  private final Map<String, LedgerEntry> entries;

  private Ledger(Map<String, LedgerEntry> entries) {
    this.entries = Collections.unmodifiableMap(new TreeMap<>(entries));
  }

  /**
   * Reads a stored ledger. Null, blank or anything that is not a ledger (a ZooKeeper node's default
   * data, say) reads as {@link #EMPTY}.
   */
  public static Ledger parse(String json) {
    if (json == null || json.isBlank()) {
      return EMPTY;
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      return EMPTY;
    }
    JsonNode policies = root == null ? null : root.get("policies");
    if (policies == null || !policies.isObject()) {
      return EMPTY;
    }
    Map<String, LedgerEntry> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = policies.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      JsonNode e = field.getValue();
      out.put(
          field.getKey(),
          new LedgerEntry(
              e.path("uid").asText(""),
              e.path("backend").asText(""),
              Math.max(0, e.path("generation").asLong(0)),
              Math.max(0, e.path("epoch").asLong(0)),
              e.path("incarnation").asText(""),
              e.path("progress").asLong(-1),
              e.path("retired").asBoolean(false)));
    }
    return new Ledger(out);
  }

  /** One line of JSON, entries in name order. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode policies = root.putObject("policies");
    entries.forEach(
        (policy, e) ->
            policies
                .putObject(policy)
                .put("uid", e.uid())
                .put("backend", e.backend())
                .put("generation", e.generation())
                .put("epoch", e.epoch())
                .put("incarnation", e.incarnation())
                .put("progress", e.progress())
                .put("retired", e.retired()));
    return root.toString();
  }

  public Map<String, LedgerEntry> entries() {
    return entries;
  }

  public Optional<LedgerEntry> entry(String policy) {
    return Optional.ofNullable(entries.get(policy));
  }

  /** The highest epoch any policy, present or gone, recorded here; 0 for an empty ledger. */
  public long floor() {
    return entries.values().stream().mapToLong(LedgerEntry::epoch).max().orElse(0);
  }

  /**
   * Whether a policy other than {@code policy} still uses {@code backend} here (an entry of that
   * backend not retired).
   */
  public boolean usedByOtherThan(String policy, String backend) {
    return entries.entrySet().stream()
        .anyMatch(
            e ->
                !e.getKey().equals(policy)
                    && !e.getValue().retired()
                    && e.getValue().backend().equals(backend));
  }

  /** This ledger with {@code entry} as {@code policy}'s. */
  public Ledger with(String policy, LedgerEntry entry) {
    Map<String, LedgerEntry> next = new TreeMap<>(entries);
    next.put(policy, entry);
    return new Ledger(next);
  }

  /** This ledger with {@code policy}'s entry retired (kept, its epoch still counting). */
  public Ledger retire(String policy) {
    LedgerEntry e = entries.get(policy);
    return e == null || e.retired() ? this : with(policy, e.retire());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Ledger other && entries.equals(other.entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return toJson();
  }
}
