package dev.fenced.lock.kubernetes;

import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerStore;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KubernetesLease ledger: the annotation {@value #LEDGER_ANNOTATION} of the Lease {@value
 * #NAME} in the Leases' namespace (a name no lock name maps to), replaced by an update at the
 * resourceVersion read. Provisioning creates that Lease.
 *
 * <p>The incarnation is that Lease's uid together with the uid of the last lock Lease seen deleted
 * ({@value #RESET_ANNOTATION}): a lock's Lease deleted and created again starts its {@code
 * leaseTransitions}, and so its tokens, at 1 again. Every service of the family and the operator
 * watch fenced's Leases and write that annotation when one with transitions goes; deleting every
 * Lease, the ledger's included, gives the ledger a new uid.
 */
final class LeaseLedgerStore implements LedgerStore {

  /** The Lease that holds the ledger. */
  static final String NAME = "fenced-ledger";

  static final String LEDGER_ANNOTATION = "locks.fenced.dev/ledger";
  static final String RESET_ANNOTATION = "locks.fenced.dev/last-reset";

  /**
   * The last Lease generation handed out in this namespace, a number that only rises; see {@link
   * LeaseGeneration}.
   */
  static final String GENERATION_ANNOTATION = "locks.fenced.dev/lease-generation";

  /**
   * Rounds of an update of the ledger Lease (a generation, the document) lost to another writer
   * before it gives up; each lost round is someone else's progress.
   */
  private static final int UPDATE_TRIES = 50;

  private static final Logger LOG = LoggerFactory.getLogger(LeaseLedgerStore.class);

  private final KubernetesLeaseLockService service;
  private final KubernetesClient client;
  private final String namespace;

  LeaseLedgerStore(KubernetesLeaseLockService service, KubernetesClient client, String namespace) {
    this.service = service;
    this.client = client;
    this.namespace = namespace;
  }

  /** Runs a blocking client call on the service's executor. */
  private <T> CompletableFuture<T> call(Callable<T> work) {
    return service.call(work);
  }

  /** Creates the ledger's Lease unless it exists; part of provisioning. Blocking. */
  void ensureExists() {
    if (lease() != null) {
      return;
    }
    try {
      client.leases().inNamespace(namespace).resource(fresh(Map.of())).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  /**
   * A lock Lease that had issued tokens was deleted: record it, so the incarnation changes and the
   * epoch rises before the name's restarted transitions are used. Idempotent per deleted Lease.
   * Completes when recorded (or when recording failed, which is logged).
   */
  CompletableFuture<Void> noteDeleted(Lease deleted) {
    return call(() -> {
          recordDeletion(deleted);
          return null;
        })
        .handle(
            (r, e) -> {
              if (e != null) {
                LOG.warn(
                    "could not record the deletion of Lease {}/{} in {}: {}",
                    namespace,
                    deleted.getMetadata().getName(),
                    NAME,
                    e.toString());
              }
              return null;
            });
  }

  /**
   * {@link #noteDeleted} on the caller's thread, for a caller already on the service's executor.
   * Blocking; throws when the ledger could not be written.
   */
  void recordDeletion(Lease deleted) {
    String uid = deleted.getMetadata().getUid();
    for (int tries = 0; tries < 5; tries++) {
      Lease ledger = lease();
      if (ledger == null) {
        ledger = client.leases().inNamespace(namespace).resource(fresh(Map.of())).create();
      }
      Map<String, String> annotations = annotations(ledger);
      if (uid != null && uid.equals(annotations.get(RESET_ANNOTATION))) {
        return;
      }
      annotations.put(RESET_ANNOTATION, uid == null ? deleted.getMetadata().getName() : uid);
      if (updated(ledger, annotations)) {
        return;
      }
    }
    throw new IllegalStateException(
        "the ledger Lease " + namespace + "/" + NAME + " kept changing under 5 updates");
  }

  /**
   * Hands out the next Lease generation of this namespace: one above the last one recorded, and at
   * least {@code atLeast}. Blocking, for a caller on the service's executor.
   *
   * @param atLeast the lowest generation the caller can use
   * @param epoch the caller's epoch, for the message when it is refused
   * @param createIfMissing whether a missing ledger Lease is created (a service nobody raises the
   *     epoch for); otherwise its absence is an incident the epoch rises for first
   * @throws GenerationRefused when the ledger is missing and may not be created
   */
  long nextGeneration(long atLeast, long epoch, boolean createIfMissing) {
    for (int tries = 0; tries < UPDATE_TRIES; tries++) {
      Lease ledger = lease();
      if (ledger == null) {
        if (!createIfMissing) {
          throw new GenerationRefused(
              "the ledger Lease "
                  + namespace
                  + "/"
                  + NAME
                  + " is missing (deleted with the namespace's Leases?): the Lease generations"
                  + " went with it, so no Lease is created or first taken at fencing epoch "
                  + epoch
                  + " until the epoch rises");
        }
        ensureExists();
        continue;
      }
      Map<String, String> annotations = annotations(ledger);
      long next = Math.max(atLeast, lastGeneration(annotations.get(GENERATION_ANNOTATION)) + 1);
      if (next > LeaseGeneration.MAX_GENERATION) {
        throw new IllegalStateException(
            "the Leases of namespace "
                + namespace
                + " have used up their "
                + LeaseGeneration.MAX_GENERATION
                + " generations (one per Lease created, per Lease first taken at an epoch, and per "
                + LeaseGeneration.MAX_TRANSITIONS
                + " takeovers): raise the policies' epoch, then remove "
                + GENERATION_ANNOTATION
                + " from Lease "
                + namespace
                + "/"
                + NAME);
      }
      annotations.put(GENERATION_ANNOTATION, Long.toString(next));
      if (updated(ledger, annotations)) {
        return next;
      }
    }
    throw new IllegalStateException(
        "the ledger Lease "
            + namespace
            + "/"
            + NAME
            + " kept changing under "
            + UPDATE_TRIES
            + " updates");
  }

  /**
   * The recorded generation; 0 when absent. An unreadable value (edited by hand) is refused:
   * starting over from 1 could repeat a generation.
   */
  private long lastGeneration(String recorded) {
    if (recorded == null) {
      return 0;
    }
    try {
      long last = Long.parseLong(recorded.strip());
      if (last >= 0) {
        return last;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalStateException(
        "annotation "
            + GENERATION_ANNOTATION
            + " of Lease "
            + namespace
            + "/"
            + NAME
            + " is '"
            + recorded
            + "', not a generation number: set it back to a number at or above the last one");
  }

  /** The ledger cannot hand this service a generation until its epoch rises. */
  static final class GenerationRefused extends RuntimeException {
    GenerationRefused(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public CompletionStage<Snapshot> read() {
    return call(
        () -> {
          Lease ledger = lease();
          if (ledger == null) {
            return new Snapshot(null, null);
          }
          return new Snapshot(
              annotations(ledger).get(LEDGER_ANNOTATION),
              ledger.getMetadata().getResourceVersion());
        });
  }

  /**
   * Replaces the ledger when it still reads {@code expected}'s document. The document is compared,
   * not the Lease's resourceVersion: the Lease generation counter shares the Lease and changes with
   * every Lease created, which must not fail a ledger update that nothing else came before (the
   * PostgreSQL ledger compares its document the same way). The update itself is at the
   * resourceVersion just read; a counter update in between is read again.
   */
  @Override
  public CompletionStage<Boolean> compareAndSet(Snapshot expected, String document) {
    return call(
        () -> {
          try {
            if (expected.version() == null) {
              client
                  .leases()
                  .inNamespace(namespace)
                  .resource(fresh(Map.of(LEDGER_ANNOTATION, document)))
                  .create();
              return true;
            }
            for (int tries = 0; tries < UPDATE_TRIES; tries++) {
              Lease ledger = lease();
              if (ledger == null) {
                return false;
              }
              Map<String, String> annotations = annotations(ledger);
              if (!Objects.equals(expected.document(), annotations.get(LEDGER_ANNOTATION))) {
                return false;
              }
              annotations.put(LEDGER_ANNOTATION, document);
              if (updated(ledger, annotations)) {
                return true;
              }
            }
            return false;
          } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
                || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
              return false;
            }
            throw e;
          }
        });
  }

  @Override
  public CompletionStage<Incarnation> incarnation() {
    return call(
        () -> {
          Lease ledger = lease();
          if (ledger == null) {
            return Incarnation.of(
                "lease ledger=none", "Lease " + namespace + "/" + NAME + " missing");
          }
          String reset = annotations(ledger).getOrDefault(RESET_ANNOTATION, "none");
          return Incarnation.of(
              "lease ledger=" + ledger.getMetadata().getUid() + " last-reset=" + reset,
              "Lease "
                  + namespace
                  + "/"
                  + NAME
                  + " uid "
                  + ledger.getMetadata().getUid()
                  + (reset.equals("none")
                      ? ", no lock Lease deleted since"
                      : ", last lock Lease deleted: uid " + reset));
        });
  }

  @Override
  public String where() {
    return "annotation " + LEDGER_ANNOTATION + " of Lease " + namespace + "/" + NAME;
  }

  /**
   * {@link #update}; false when someone changed the Lease since it was read (409), to read it
   * again.
   */
  private boolean updated(Lease ledger, Map<String, String> annotations) {
    try {
      update(ledger, annotations);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      return false;
    }
  }

  /** Writes the ledger Lease with {@code annotations}, at the resourceVersion it was read at. */
  private void update(Lease ledger, Map<String, String> annotations) {
    client
        .leases()
        .inNamespace(namespace)
        .resource(
            new LeaseBuilder(ledger)
                .editMetadata()
                .withAnnotations(annotations)
                .endMetadata()
                .build())
        .update();
  }

  private Lease lease() {
    return client.leases().inNamespace(namespace).withName(NAME).get();
  }

  private Lease fresh(Map<String, String> annotations) {
    return new LeaseBuilder()
        .withNewMetadata()
        .withName(NAME)
        .withNamespace(namespace)
        .withLabels(
            Map.of(
                KubernetesLeaseLockService.MANAGED_BY_LABEL, KubernetesLeaseLockService.MANAGED_BY))
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .endSpec()
        .build();
  }

  private static Map<String, String> annotations(Lease lease) {
    Map<String, String> a = lease.getMetadata().getAnnotations();
    return a == null ? new HashMap<>() : new HashMap<>(a);
  }
}
