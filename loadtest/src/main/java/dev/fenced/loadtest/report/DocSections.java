package dev.fenced.loadtest.report;

/**
 * Replaces the generated parts of a hand-written page: each sits between {@code <!-- BEGIN
 * generated: ID -->} and {@code <!-- END generated: ID -->}, and only what is between them is
 * rewritten.
 */
final class DocSections {

  private DocSections() {}

  static String begin(String id) {
    return "<!-- BEGIN generated: " + id + " -->";
  }

  static String end(String id) {
    return "<!-- END generated: " + id + " -->";
  }

  /** The page with the section {@code id} replaced by {@code content}. */
  static String replace(String page, String id, String content) {
    int from = page.indexOf(begin(id));
    int to = page.indexOf(end(id));
    if (from < 0 || to < from) {
      throw new IllegalArgumentException(
          "the page has no section '" + begin(id) + "' … '" + end(id) + "'");
    }
    return page.substring(0, from + begin(id).length())
        + "\n"
        + content.strip()
        + "\n"
        + page.substring(to);
  }

  /** What the section {@code id} of the page holds now. */
  static String get(String page, String id) {
    int from = page.indexOf(begin(id));
    int to = page.indexOf(end(id));
    if (from < 0 || to < from) {
      throw new IllegalArgumentException(
          "the page has no section '" + begin(id) + "' … '" + end(id) + "'");
    }
    return page.substring(from + begin(id).length(), to).strip();
  }
}
