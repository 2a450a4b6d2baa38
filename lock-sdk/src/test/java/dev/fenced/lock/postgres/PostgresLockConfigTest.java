package dev.fenced.lock.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PostgresLockConfigTest {

  private static final PostgresLockConfig VALID =
      new PostgresLockConfig("db", 5432, "app", "locker", "s3cret", PostgresMode.LockTable, 8);

  @Test
  void eachInvalidFieldIsNamed() {
    assertThatThrownBy(
            () -> new PostgresLockConfig(" ", 5432, "app", "u", "p", PostgresMode.Advisory, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host");
    assertThatThrownBy(
            () -> new PostgresLockConfig("db", 0, "app", "u", "p", PostgresMode.Advisory, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port");
    assertThatThrownBy(
            () -> new PostgresLockConfig("db", 5432, "", "u", "p", PostgresMode.Advisory, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("database");
    assertThatThrownBy(
            () -> new PostgresLockConfig("db", 5432, "app", null, "p", PostgresMode.Advisory, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("user");
    assertThatThrownBy(() -> new PostgresLockConfig("db", 5432, "app", "u", "p", null, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mode");
    assertThatThrownBy(
            () -> new PostgresLockConfig("db", 5432, "app", "u", null, PostgresMode.RowLock, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("password");
    assertThatThrownBy(() -> VALID.withMaxPoolSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPoolSize");
    assertThatThrownBy(() -> VALID.withRequestTimeout(Duration.ofNanos(999_999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("requestTimeout must be at least 1ms, was PT0.000999999S");
    assertThatThrownBy(() -> VALID.withRequestTimeout(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("requestTimeout");
  }

  @Test
  void aStatementWaitsForItsAnswerFiveSecondsUnlessToldOtherwise() {
    assertThat(VALID.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(VALID.withRequestTimeout(Duration.ofMillis(750)).requestTimeout())
        .isEqualTo(Duration.ofMillis(750));
  }

  @Test
  void thePasswordIsNeverPrinted() {
    assertThat(VALID.toString()).doesNotContain("s3cret").contains("locker@db:5432/app");
  }

  @Test
  void modesNameTheirBackends() {
    assertThat(PostgresMode.LockTable.backend()).isEqualTo("Postgres/LockTable");
    assertThat(PostgresMode.RowLock.backend()).isEqualTo("Postgres/RowLock");
    assertThat(PostgresMode.Advisory.backend()).isEqualTo("Postgres/Advisory");
  }
}
