package dev.fenced.lock.policy.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Declares which backend governs a family of lock names, with what lease timing and fencing.
 *
 * <p>The operator reconciles it into backend configuration and {@link LockPolicyStatus}; services
 * use a policy only while its {@code Ready} condition is {@code True} for its current generation.
 */
@Group(LockPolicy.GROUP)
@Version(LockPolicy.VERSION)
@ShortNames("lp")
@Categories({"fenced", "locks"})
@Plural("lockpolicies")
@Singular("lockpolicy")
@AdditionalPrinterColumn(
    name = "Backend",
    jsonPath = ".spec.backend.type",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Epoch",
    jsonPath = ".status.epoch",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class LockPolicy extends CustomResource<LockPolicySpec, LockPolicyStatus>
    implements Namespaced {

  public static final String GROUP = "locks.fenced.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "LockPolicy";

  /** Required in the CRD too: a LockPolicy without a spec governs nothing. */
  @Override
  @io.fabric8.generator.annotation.Required
  public LockPolicySpec getSpec() {
    return super.getSpec();
  }
}
