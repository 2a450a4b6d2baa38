package dev.fenced.lock.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LedgerTest {

  private static final Incarnation ONE = Incarnation.of("redis run_id=a marker=m", "one");

  @Test
  void roundTripsAndKeepsEntriesInNameOrder() {
    Ledger ledger =
        Ledger.EMPTY
            .with("b/two", LedgerEntry.adopted("u2", "Redis", 3, 7, ONE))
            .with("a/one", LedgerEntry.adopted("u1", "Redis", 1, 2, ONE).retire());
    String json = ledger.toJson();
    assertThat(json).startsWith("{\"policies\":{\"a/one\":");
    assertThat(Ledger.parse(json)).isEqualTo(ledger);
    assertThat(Ledger.parse(json).entry("a/one").orElseThrow().retired()).isTrue();
  }

  @Test
  void whatIsNotALedgerReadsAsEmpty() {
    assertThat(Ledger.parse(null)).isEqualTo(Ledger.EMPTY);
    assertThat(Ledger.parse("")).isEqualTo(Ledger.EMPTY);
    // Curator's default node data is the client's address.
    assertThat(Ledger.parse("127.0.0.1")).isEqualTo(Ledger.EMPTY);
    assertThat(Ledger.parse("{\"layout\":1}")).isEqualTo(Ledger.EMPTY);
    assertThat(Ledger.parse("{not json")).isEqualTo(Ledger.EMPTY);
  }

  @Test
  void floorCountsRetiredEntriesAndUseCountsOnlyLiveOnes() {
    Ledger ledger =
        Ledger.EMPTY
            .with("ns/gone", LedgerEntry.adopted("u1", "Redis", 1, 9, ONE).retire())
            .with("ns/here", LedgerEntry.adopted("u2", "Redis", 1, 4, ONE));
    assertThat(ledger.floor()).isEqualTo(9);
    assertThat(ledger.usedByOtherThan("ns/gone", "Redis")).isTrue();
    assertThat(ledger.usedByOtherThan("ns/here", "Redis")).isFalse();
    assertThat(Ledger.EMPTY.floor()).isZero();
  }

  @Test
  void anEntryRecordsAnIncarnationUntilItsIdChangesOrItsProgressGoesBack() {
    LedgerEntry entry =
        LedgerEntry.adopted("u", "Redis", 1, 1, new Incarnation("etcd cluster=1", 100, "x"));
    assertThat(entry.recorded(new Incarnation("etcd cluster=1", 150, "x"))).isTrue();
    assertThat(entry.recorded(new Incarnation("etcd cluster=1", 90, "x"))).isFalse();
    assertThat(entry.recorded(new Incarnation("etcd cluster=2", 150, "x"))).isFalse();
  }
}
