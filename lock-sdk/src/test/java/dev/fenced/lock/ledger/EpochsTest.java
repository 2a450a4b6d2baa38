package dev.fenced.lock.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.ledger.Epochs.Decision;
import org.junit.jupiter.api.Test;

class EpochsTest {

  private static final String P = "ns/counters";
  private static final Incarnation A = Incarnation.of("redis run_id=a marker=m", "A");
  private static final Incarnation B = Incarnation.of("redis run_id=b marker=m", "B");

  private static Decision operator(
      Long epoch, String identity, String incarnation, Ledger ledger, Incarnation now) {
    return Epochs.forOperator(epoch, identity, incarnation, "Redis x", ledger, P, now, -1);
  }

  @Test
  void aNewPolicyStartsAtOneOnAnEmptyLedger() {
    Decision d = operator(null, null, null, Ledger.EMPTY, A);
    assertThat(d.epoch()).isEqualTo(1);
    assertThat(d.incident()).isFalse();
  }

  @Test
  void aPolicyCreatedAgainResumesAboveEveryEpochTheLedgerRecords() {
    Ledger ledger =
        Ledger.EMPTY
            .with(P, LedgerEntry.adopted("old-uid", "Redis", 4, 6, A).retire())
            .with("other/ns", LedgerEntry.adopted("u", "Redis", 1, 2, A));
    Decision d = operator(null, null, null, ledger, A);
    assertThat(d.epoch()).isEqualTo(7);
    assertThat(d.reason()).contains("above epoch 6");
  }

  @Test
  void aMoveRaisesByOne() {
    Decision d = Epochs.forOperator(3L, "Postgres y", "pg", "Redis x", Ledger.EMPTY, P, A, -1);
    assertThat(d.epoch()).isEqualTo(4);
    assertThat(d.incident()).isFalse();
  }

  @Test
  void theSameBackendInTheSameIncarnationKeepsTheEpoch() {
    Ledger ledger = Ledger.EMPTY.with(P, LedgerEntry.adopted("u", "Redis", 1, 3, A));
    Decision d = operator(3L, "Redis x", A.id(), ledger, A);
    assertThat(d.epoch()).isEqualTo(3);
    assertThat(d.raised()).isFalse();
  }

  @Test
  void anotherIncarnationRaisesAboveStatusAndLedger() {
    Ledger ledger = Ledger.EMPTY.with(P, LedgerEntry.adopted("u", "Redis", 1, 3, A));
    Decision d = operator(3L, "Redis x", A.id(), ledger, B);
    assertThat(d.epoch()).isEqualTo(4);
    assertThat(d.incident()).isTrue();
    assertThat(d.reason()).contains(A.id()).contains(B.id());
  }

  @Test
  void aWipedLedgerIsStillAnIncidentWhenTheStatusRemembers() {
    Decision d = operator(5L, "Redis x", A.id(), Ledger.EMPTY, B);
    assertThat(d.epoch()).isEqualTo(6);
    assertThat(d.incident()).isTrue();
  }

  @Test
  void progressThatWentBackIsAnIncident() {
    Incarnation before = new Incarnation("etcd cluster=1 marker@5", 500, "x");
    Incarnation restored = new Incarnation("etcd cluster=1 marker@5", 200, "x");
    Ledger ledger = Ledger.EMPTY.with(P, LedgerEntry.adopted("u", "Redis", 1, 2, before));
    assertThat(
            Epochs.forOperator(2L, "Etcd e", before.id(), "Etcd e", ledger, P, restored, -1)
                .epoch())
        .isEqualTo(3);
    Ledger alsoRestored = Ledger.EMPTY.with(P, LedgerEntry.adopted("u", "Redis", 1, 2, restored));
    assertThat(
            Epochs.forOperator(2L, "Etcd e", before.id(), "Etcd e", alsoRestored, P, restored, 800)
                .epoch())
        .as("the ledger went back with the data; the progress seen before did not")
        .isEqualTo(3);
  }

  @Test
  void servicesWithoutAnOperatorAgreeOnOneRaise() {
    Ledger ledger = Ledger.EMPTY.with(P, LedgerEntry.adopted("", "Redis", 1, 2, A));
    Epochs.Adopted seenBefore = new Epochs.Adopted(A, 2);
    // The first service to look after the incident raises and records it ...
    Decision first = Epochs.forDirectory(0, ledger, P, B, seenBefore);
    assertThat(first.epoch()).isEqualTo(3);
    assertThat(first.incident()).isTrue();
    Ledger recorded = ledger.with(P, LedgerEntry.adopted("", "Redis", 1, first.epoch(), B));
    // ... the others, which adopted A at 2 too, find B at 3 and take it as it is.
    Decision second = Epochs.forDirectory(0, recorded, P, B, seenBefore);
    assertThat(second.epoch()).isEqualTo(3);
    // A service started after the raise takes the recorded epoch.
    assertThat(Epochs.forDirectory(0, recorded, P, B, null).epoch()).isEqualTo(3);
  }

  @Test
  void aProcessThatSawTheOldIncarnationRaisesEvenWhenTheLedgerWasWiped() {
    Decision d = Epochs.forDirectory(0, Ledger.EMPTY, P, B, new Epochs.Adopted(A, 4));
    assertThat(d.epoch()).isEqualTo(5);
    assertThat(d.incident()).isTrue();
  }

  @Test
  void theFileEpochWinsWhenItIsHigher() {
    Ledger ledger = Ledger.EMPTY.with(P, LedgerEntry.adopted("", "Redis", 1, 2, A));
    assertThat(Epochs.forDirectory(9, ledger, P, A, null).epoch()).isEqualTo(9);
    assertThat(Epochs.forDirectory(0, ledger, P, A, null).epoch()).isEqualTo(2);
  }
}
