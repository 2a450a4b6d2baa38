package dev.fenced.lock.etcd;

import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerStore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;

/**
 * The etcd ledger: the key {@code <prefix>/.ledger}, replaced in a transaction that compares its
 * mod revision.
 *
 * <p>The incarnation is the cluster id together with the create revision of the provisioning marker
 * {@code <prefix>/.policy}: another cluster behind the same endpoints, or a prefix wiped and
 * provisioned again, changes it. Its progress is the store's revision, which etcd only ever raises;
 * a restore from an older snapshot (which keeps the cluster id) shows as a revision below one seen
 * before.
 */
final class EtcdLedgerStore implements LedgerStore {

  private final EtcdLockService service;
  private final EtcdKeys keys;

  EtcdLedgerStore(EtcdLockService service, EtcdKeys keys) {
    this.service = service;
    this.keys = keys;
  }

  @Override
  public CompletionStage<Snapshot> read() {
    return service
        .call(() -> service.client().getKVClient().get(keys.ledger()))
        .thenApply(
            got ->
                got.getKvs().isEmpty()
                    ? new Snapshot(null, 0L)
                    : new Snapshot(
                        got.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8),
                        got.getKvs().get(0).getModRevision()));
  }

  @Override
  public CompletionStage<Boolean> compareAndSet(Snapshot expected, String document) {
    ByteSequence key = keys.ledger();
    long modRevision = (Long) expected.version();
    return service
        .call(
            () ->
                service
                    .client()
                    .getKVClient()
                    .txn()
                    .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)))
                    .Then(Op.put(key, EtcdKeys.bytes(document), PutOption.DEFAULT))
                    .commit())
        .thenApply(txn -> txn.isSucceeded());
  }

  @Override
  public CompletionStage<Incarnation> incarnation() {
    return service
        .call(() -> service.client().getKVClient().get(keys.marker(), GetOption.DEFAULT))
        .thenApply(
            got -> {
              String cluster = Long.toHexString(got.getHeader().getClusterId());
              long revision = got.getHeader().getRevision();
              String marker =
                  got.getKvs().isEmpty()
                      ? "none"
                      : Long.toString(got.getKvs().get(0).getCreateRevision());
              return new Incarnation(
                  "etcd cluster=" + cluster + " marker@" + marker,
                  revision,
                  "etcd cluster id "
                      + cluster
                      + ", marker "
                      + keys.marker().toString(StandardCharsets.UTF_8)
                      + (got.getKvs().isEmpty() ? " missing" : " created at revision " + marker)
                      + ", revision "
                      + revision
                      + " (only rises; a restore goes back)");
            });
  }

  @Override
  public String where() {
    return "etcd key " + keys.ledger().toString(StandardCharsets.UTF_8);
  }
}
