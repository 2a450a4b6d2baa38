package dev.fenced.tally;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesRegex;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged service against the real PostgreSQL and Redis: migrations from the shared
 * vote-schema jar, health, metrics, status, and a poll folded end to end.
 */
@QuarkusTest
@QuarkusTestResource(PolicyFolderResource.class)
class TallyServiceIT {

  private static final String POLL = "svc-" + UUID.randomUUID().toString().substring(0, 8);

  @Test
  void runsTheSharedMigrationsFromTheVoteSchemaJar() throws Exception {
    List<String> versions = new ArrayList<>();
    try (Connection c = connect();
        ResultSet r =
            c.createStatement()
                .executeQuery(
                    "SELECT version FROM flyway_schema_history WHERE success"
                        + " AND type = 'SQL' ORDER BY installed_rank")) {
      while (r.next()) {
        versions.add(r.getString(1));
      }
    }
    assertThat(versions).startsWith("1", "2");
  }

  @Test
  void isLiveAndReady() {
    given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("status", equalTo("UP"))
        .body("checks[0].data.database", equalTo("reachable"))
        .body("checks[0].data.tallyLocks", equalTo("governed"))
        .body("checks[0].data.'default/tally-locks'", matchesRegex("Redis epoch \\d+ up in .*"));
  }

  @Test
  void foldsAPollAndReportsItInStatusAndMetrics() throws Exception {
    try (Connection c = connect()) {
      exec(c, "INSERT INTO polls (id, title, options) VALUES (?, 't', '{cat,dog}')", POLL);
      for (int i = 0; i < 3; i++) {
        exec(
            c,
            "INSERT INTO ballots (poll_id, voter, option) VALUES (?, ?, ?)",
            POLL,
            "v" + i,
            i == 0 ? "cat" : "dog");
      }
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> tallied() == 3);
    given()
        .get("/api/tally/status")
        .then()
        .statusCode(200)
        .body("enabled", equalTo(true))
        .body("owned.shard", org.hamcrest.Matchers.hasItem(new Sharding(16).shardOf(POLL)))
        .body("fenceRejections", equalTo(0.0f));
    given()
        .get("/q/metrics")
        .then()
        .statusCode(200)
        .body(containsString("tally_owned_shards"))
        .body(containsString("fenced_tally_lag_seconds"))
        .body(containsString("fenced_tally_pending_ballots"))
        .body(containsString("tally_live_workers"))
        .body(containsString("tally_folds_total"))
        .body(containsString("tally_folded_ballots_total"))
        .body(containsString("tally_fence_rejections_total"))
        .body(containsString("tally_ownership_changes_total{change=\"acquired\"}"))
        .body(not(containsString("poll=\"")));
  }

  @AfterAll
  static void removePoll() throws SQLException {
    try (Connection c = connect()) {
      for (String table : List.of("ballots", "tallies", "tally_watermarks", "counters")) {
        exec(c, "DELETE FROM " + table + " WHERE poll_id = ?", POLL);
      }
      exec(c, "DELETE FROM polls WHERE id = ?", POLL);
    }
  }

  private static long tallied() throws SQLException {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT tallied FROM tally_watermarks WHERE poll_id = ?")) {
      s.setString(1, POLL);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    }
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(
        TestDatabase.JDBC_URL, TestDatabase.USER, TestDatabase.PASSWORD);
  }

  private static void exec(Connection c, String sql, String... params) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setString(i + 1, params[i]);
      }
      s.executeUpdate();
    }
  }
}
