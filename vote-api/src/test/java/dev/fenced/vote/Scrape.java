package dev.fenced.vote;

import static io.restassured.RestAssured.given;

/** One read of {@code /q/metrics}, to compare series before and after. */
final class Scrape {

  private final String text;

  private Scrape(String text) {
    this.text = text;
  }

  static Scrape now() {
    return new Scrape(given().get("/q/metrics").then().statusCode(200).extract().asString());
  }

  /**
   * The value of one series, named with its labels exactly as exported (labels in alphabetical
   * order), e.g. {@code fenced_votes_total{outcome="recorded"}}; 0 when it is not there yet.
   */
  double value(String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }

  /** How much {@code series} grew from {@code before} to this scrape. */
  double since(Scrape before, String series) {
    return value(series) - before.value(series);
  }
}
