package dev.fenced.lock.policy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.Optional;

/**
 * A glob over lock names: {@code *} matches any run of characters, {@code :} included, and {@code
 * ?} exactly one; every other character stands for itself. Characters are Unicode code points.
 */
public final class LockNamePattern {

  private static final int STAR = '*';
  private static final int ONE = '?';

  private final String text;
  private final int[] symbols;
  private final int literalPrefixLength;

  public LockNamePattern(String text) {
    this.text = Objects.requireNonNull(text, "pattern");
    this.symbols = text.codePoints().toArray();
    int prefix = 0;
    while (prefix < symbols.length && symbols[prefix] != STAR && symbols[prefix] != ONE) {
      prefix++;
    }
    this.literalPrefixLength = prefix;
  }

  public String text() {
    return text;
  }

  /** Characters before the first {@code *} or {@code ?}: the specificity used for precedence. */
  public int literalPrefixLength() {
    return literalPrefixLength;
  }

  public boolean matches(String name) {
    int[] s = name.codePoints().toArray();
    int p = 0;
    int i = 0;
    int starAt = -1;
    int starMatched = 0;
    // Greedy match with one backtrack point: the last star is moved forward a character at a time.
    while (i < s.length) {
      if (p < symbols.length && (symbols[p] == ONE || symbols[p] == s[i])) {
        p++;
        i++;
      } else if (p < symbols.length && symbols[p] == STAR) {
        starAt = p++;
        starMatched = i;
      } else if (starAt >= 0) {
        p = starAt + 1;
        i = ++starMatched;
      } else {
        return false;
      }
    }
    while (p < symbols.length && symbols[p] == STAR) {
      p++;
    }
    return p == symbols.length;
  }

  /**
   * A lock name both patterns match, if there is one. Explores pairs of positions (one in each
   * pattern) that some common prefix of a name can reach, so it costs at most the product of the
   * two lengths.
   */
  public Optional<String> commonMatch(LockNamePattern other) {
    int[] a = symbols;
    int[] b = other.symbols;
    int width = b.length + 1;
    int states = (a.length + 1) * width;
    int[] parent = new int[states];
    int[] emitted = new int[states];
    boolean[] seen = new boolean[states];
    Deque<Integer> queue = new ArrayDeque<>();
    seen[0] = true;
    parent[0] = -1;
    queue.add(0);
    while (!queue.isEmpty()) {
      int state = queue.poll();
      int i = state / width;
      int j = state % width;
      if (i == a.length && j == b.length) {
        return Optional.of(witness(state, parent, emitted));
      }
      int x = i < a.length ? a[i] : -1;
      int y = j < b.length ? b[j] : -1;
      if (x == STAR) {
        visit(queue, seen, parent, emitted, state, (i + 1) * width + j, -1);
        if (y != -1 && y != STAR) {
          // This pattern's star swallows the character the other pattern produces.
          visit(queue, seen, parent, emitted, state, i * width + j + 1, concrete(y));
        }
      }
      if (y == STAR) {
        visit(queue, seen, parent, emitted, state, i * width + j + 1, -1);
        if (x != -1 && x != STAR) {
          visit(queue, seen, parent, emitted, state, (i + 1) * width + j, concrete(x));
        }
      }
      if (x != -1 && y != -1 && x != STAR && y != STAR && (x == ONE || y == ONE || x == y)) {
        visit(
            queue,
            seen,
            parent,
            emitted,
            state,
            (i + 1) * width + j + 1,
            concrete(x == ONE ? y : x));
      }
    }
    return Optional.empty();
  }

  private static int concrete(int symbol) {
    return symbol == ONE ? 'x' : symbol;
  }

  private static void visit(
      Deque<Integer> queue,
      boolean[] seen,
      int[] parent,
      int[] emitted,
      int from,
      int to,
      int symbol) {
    if (!seen[to]) {
      seen[to] = true;
      parent[to] = from;
      emitted[to] = symbol;
      queue.add(to);
    }
  }

  private static String witness(int state, int[] parent, int[] emitted) {
    StringBuilder reversed = new StringBuilder();
    for (int s = state; parent[s] >= 0; s = parent[s]) {
      if (emitted[s] >= 0) {
        reversed.appendCodePoint(emitted[s]);
      }
    }
    // Reverse by code points so characters outside the BMP survive.
    int[] cps = reversed.codePoints().toArray();
    StringBuilder out = new StringBuilder();
    for (int k = cps.length - 1; k >= 0; k--) {
      out.appendCodePoint(cps[k]);
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LockNamePattern other && other.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
