package dev.fenced.lock.policy;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LockPolicies of one namespace from the Kubernetes API, through an informer (RBAC: {@code get},
 * {@code list} and {@code watch} on {@code lockpolicies.locks.fenced.dev}).
 *
 * <p>A policy is offered only while the operator has marked it {@code Ready} for its current
 * generation ({@link PolicyConditions#isReadyForCurrentGeneration}) and it passes {@link
 * LockPolicyValidator}. Its fencing epoch is {@code status.epoch}, which the operator raises with
 * every change of backend; {@link LockPolicyValidator#toSettings(LockPolicy)} reads it from there,
 * as it reads the epoch a {@link DirectoryPolicySource} copies there from its annotation.
 *
 * <p>When a policy changes and its new generation is not (yet) Ready, or cannot be read, or is
 * invalid, the last Ready version stays in force and a {@link PolicyProblem} names the policy and
 * why; a deleted policy goes at once. A policy whose {@code Conflicting} condition is {@code True}
 * is reported as a problem too (the resolver refuses the tie itself).
 *
 * <p>Objects are watched as untyped resources and converted one by one, so a value this build does
 * not know (say a backend type added in a newer version of the CRD) makes that one policy a problem
 * instead of breaking the watch for all of them.
 */
public final class KubernetesPolicySource extends PublishingPolicySource {

  /** How long the constructor waits for the first list by default. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);

  static final ResourceDefinitionContext LOCK_POLICIES =
      new ResourceDefinitionContext.Builder()
          .withGroup(LockPolicy.GROUP)
          .withVersion(LockPolicy.VERSION)
          .withKind(LockPolicy.KIND)
          .withPlural("lockpolicies")
          .withNamespaced(true)
          .build();

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesPolicySource.class);

  /**
   * Fabric8's own mapping, independent of how the application configured the client's (a service
   * may fail on unknown properties for its API bodies; a policy from a newer CRD must not).
   */
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** What is known about one policy: the version in force (if any) and what is wrong now. */
  private record Entry(LockPolicy inForce, List<PolicyProblem> problems) {}

  private final KubernetesClient client;
  private final String namespace;
  private final SharedIndexInformer<GenericKubernetesResource> informer;

  // Guarded by this.
  private final Map<String, Entry> entries = new TreeMap<>();

  private volatile boolean closed;

  /** Watches {@code namespace}, waiting up to {@link #DEFAULT_START_TIMEOUT} for the first list. */
  public KubernetesPolicySource(KubernetesClient client, String namespace) {
    this(client, namespace, DEFAULT_START_TIMEOUT);
  }

  /**
   * Lists the LockPolicies of {@code namespace} before returning, then keeps watching them.
   *
   * @param client owned by the caller, who closes it after this source
   * @throws IllegalStateException naming the namespace and the cause when the first list fails (no
   *     API server, no RBAC permission) or does not finish within {@code startTimeout}
   */
  public KubernetesPolicySource(KubernetesClient client, String namespace, Duration startTimeout) {
    this.client = Objects.requireNonNull(client, "client");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.informer =
        client.genericKubernetesResources(LOCK_POLICIES).inNamespace(namespace).runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(GenericKubernetesResource obj) {
            seen(obj);
          }

          @Override
          public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
            seen(newObj);
          }

          @Override
          public void onDelete(GenericKubernetesResource obj, boolean finalStateUnknown) {
            deleted(obj);
          }
        });
    try {
      informer.start().toCompletableFuture().get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      informer.stop();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing LockPolicies", e);
    } catch (ExecutionException | TimeoutException e) {
      informer.stop();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(
          "cannot list LockPolicies in namespace "
              + namespace
              + " (the service account needs get, list and watch on"
              + " lockpolicies.locks.fenced.dev): "
              + cause,
          cause);
    }
    LOG.info(
        "following LockPolicies in namespace {}: {} in force, {} problem(s)",
        namespace,
        policies().size(),
        problems().size());
  }

  /**
   * The namespace a service follows: {@code setting} when given and not blank, else the client's
   * own (in a pod, the pod's namespace).
   *
   * @throws IllegalStateException when neither names one
   */
  public static String namespaceFor(Optional<String> setting, KubernetesClient client) {
    return setting
        .filter(n -> !n.isBlank())
        .or(() -> Optional.ofNullable(client.getNamespace()))
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "set fenced.policies.namespace (env FENCED_POLICY_NAMESPACE): the Kubernetes"
                        + " client has no namespace configured"));
  }

  /** The namespace watched. */
  public String namespace() {
    return namespace;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    informer.stop();
  }

  private synchronized void seen(GenericKubernetesResource resource) {
    if (closed) {
      return;
    }
    String name = resource.getMetadata().getName();
    String source = "LockPolicy " + namespace + "/" + name;
    Entry before = entries.get(name);
    LockPolicy inForce = before == null ? null : before.inForce;
    List<PolicyProblem> found = new ArrayList<>();
    LockPolicy policy = convert(resource, source, found);
    if (policy != null) {
      PolicyConditions.find(policy, PolicyConditions.CONFLICTING)
          .filter(c -> PolicyConditions.TRUE.equals(c.getStatus()))
          .ifPresent(
              c ->
                  found.add(
                      new PolicyProblem(
                          source, null, "status.conditions[Conflicting]", describe(c))));
      if (!PolicyConditions.isReadyForCurrentGeneration(policy)) {
        found.add(new PolicyProblem(source, null, "status", notReady(policy, inForce)));
      } else if (acceptable(policy, source, found)) {
        inForce = policy;
      }
    }
    List<PolicyProblem> problemsNow = List.copyOf(found);
    boolean policyChanged = before == null ? inForce != null : before.inForce != inForce;
    if (before == null || !before.problems.equals(problemsNow)) {
      problemsNow.forEach(p -> LOG.warn("{}", p));
    }
    if (policyChanged && inForce != null) {
      LOG.info(
          "{}: generation {} accepted ({}, epoch {})",
          source,
          inForce.getMetadata().getGeneration(),
          inForce.getSpec().getBackend().getType(),
          epochOf(inForce));
    }
    entries.put(name, new Entry(inForce, problemsNow));
    publish(policyChanged);
  }

  private synchronized void deleted(GenericKubernetesResource resource) {
    if (closed) {
      return;
    }
    Entry before = entries.remove(resource.getMetadata().getName());
    if (before != null) {
      LOG.info("LockPolicy {}/{} deleted", namespace, resource.getMetadata().getName());
      publish(before.inForce != null);
    }
  }

  private LockPolicy convert(
      GenericKubernetesResource resource, String source, List<PolicyProblem> found) {
    try {
      return SERIALIZATION.convertValue(resource, LockPolicy.class);
    } catch (RuntimeException e) {
      // Jackson names the value and the field it could not map (an unknown enum constant, say);
      // the cause chain says nothing more useful and may be long.
      String message = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
      found.add(
          new PolicyProblem(
              source,
              null,
              null,
              "cannot be read by this version of the service: "
                  + (message == null ? e.toString() : message.lines().findFirst().orElse(""))));
      return null;
    }
  }

  /** Valid, with an epoch tokens can carry; problems go to {@code found}. */
  private static boolean acceptable(LockPolicy policy, String source, List<PolicyProblem> found) {
    List<Violation> violations = LockPolicyValidator.validate(policy);
    for (Violation v : violations) {
      found.add(new PolicyProblem(source, null, v.field(), v.message()));
    }
    long epoch = epochOf(policy);
    if (epoch < 0 || epoch > FencingTokens.MAX_EPOCH) {
      found.add(
          new PolicyProblem(
              source,
              null,
              "status.epoch",
              "must be within 0.." + FencingTokens.MAX_EPOCH + ", was " + epoch));
      return false;
    }
    return violations.isEmpty();
  }

  private static long epochOf(LockPolicy policy) {
    Long epoch = policy.getStatus() == null ? null : policy.getStatus().getEpoch();
    return epoch == null ? 0 : epoch;
  }

  private static String notReady(LockPolicy policy, LockPolicy inForce) {
    Long generation = policy.getMetadata().getGeneration();
    Long observed = policy.getStatus() == null ? null : policy.getStatus().getObservedGeneration();
    String why;
    if (policy.getStatus() == null || observed == null) {
      why = "the operator has not reported on it yet";
    } else if (!Objects.equals(observed, generation)) {
      why = "status describes generation " + observed;
    } else {
      why =
          PolicyConditions.find(policy, PolicyConditions.READY)
              .map(c -> "Ready is " + describe(c))
              .orElse("it has no Ready condition");
    }
    return "not Ready for generation "
        + generation
        + " ("
        + why
        + "); "
        + (inForce == null
            ? "nothing in force for it yet"
            : "generation " + inForce.getMetadata().getGeneration() + " stays in force");
  }

  private static String describe(Condition c) {
    return c.getStatus()
        + (c.getReason() == null ? "" : " (" + c.getReason() + ")")
        + (c.getMessage() == null || c.getMessage().isBlank() ? "" : ": " + c.getMessage());
  }

  private void publish(boolean policiesChanged) {
    List<LockPolicy> nowPolicies = new ArrayList<>();
    List<PolicyProblem> nowProblems = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.inForce != null) {
        nowPolicies.add(e.inForce);
      }
      nowProblems.addAll(e.problems);
    }
    publish(nowPolicies, nowProblems, policiesChanged);
  }

  @Override
  public String toString() {
    return "KubernetesPolicySource[" + namespace + "]";
  }
}
