package dev.fenced.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What the chart promises beyond well-formed objects: the operator's high availability, the Jobs
 * that apply the default LockPolicies on install and upgrade and delete them before an uninstall,
 * the monitoring objects and the values platform teams set.
 */
class ChartFeaturesTest {

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path MONITORING = Helm.CHART.resolve("monitoring");

  /** helm template with --set/--api-versions arguments; the raw objects, policies not expanded. */
  private static List<Manifest> raw(List<Path> values, String... args) {
    Helm.Result r = Helm.template(values, args);
    assertThat(r.exitCode()).as("helm template failed:\n%s", r.stderr()).isZero();
    return Manifest.parseAll(r.stdout());
  }

  private static List<Manifest> raw(String... args) {
    return raw(List.of(), args);
  }

  private static List<Manifest> profile(String name, String... args) {
    return raw(List.of(Helm.CHART.resolve("ci/" + name + "-values.yaml")), args);
  }

  private static JsonNode get(List<Manifest> manifests, String id) {
    return manifests.stream()
        .filter(m -> m.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " is not rendered"))
        .tree();
  }

  private static List<Manifest> ofKind(List<Manifest> manifests, String kind) {
    return manifests.stream().filter(m -> m.kind().equals(kind)).toList();
  }

  private static JsonNode container(JsonNode workload) {
    return workload.path("spec").path("template").path("spec").path("containers").get(0);
  }

  private static String env(JsonNode container, String name) {
    for (JsonNode e : container.path("env")) {
      if (e.path("name").asText().equals(name)) {
        return e.path("value").asText();
      }
    }
    return null;
  }

  private static String hook(JsonNode object) {
    return object.path("metadata").path("annotations").path("helm.sh/hook").asText(null);
  }

  /** The example LockPolicies a user applies over the chart's (k8s/examples/). */
  private static List<Path> examples() throws IOException {
    try (var files = Files.list(Helm.ROOT.resolve("k8s/examples"))) {
      List<Path> out = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertThat(out).isNotEmpty();
      return out;
    }
  }

  private static List<String> args(JsonNode job) {
    List<String> out = new ArrayList<>();
    container(job).path("args").forEach(a -> out.add(a.asText()));
    return out;
  }

  /** The verbs a Role grants on a resource of an API group (for a name, or for any name). */
  private static Set<String> verbs(JsonNode role, String group, String resource, String name) {
    Set<String> out = new TreeSet<>();
    for (JsonNode rule : role.path("rules")) {
      boolean groupOk = ManifestChecks.texts(rule.path("apiGroups")).contains(group);
      boolean resourceOk = ManifestChecks.texts(rule.path("resources")).contains(resource);
      Set<String> names = ManifestChecks.texts(rule.path("resourceNames"));
      boolean nameOk = names.isEmpty() || (name != null && names.contains(name));
      if (groupOk && resourceOk && nameOk) {
        out.addAll(ManifestChecks.texts(rule.path("verbs")));
      }
    }
    return out;
  }

  // --- the operator, highly available ---------------------------------------------------------

  @Test
  void theOperatorRunsTwoReplicasBehindALeaseAndRollsWithoutAGap() {
    List<Manifest> m = raw();
    JsonNode deployment = get(m, "Deployment/fenced-lock-operator");
    assertThat(deployment.path("spec").path("replicas").asInt()).isEqualTo(2);
    assertThat(deployment.path("spec").path("strategy").path("type").asText())
        .isEqualTo("RollingUpdate");
    assertThat(
            deployment
                .path("spec")
                .path("strategy")
                .path("rollingUpdate")
                .path("maxUnavailable")
                .asInt())
        .isZero();
    assertThat(env(container(deployment), "QUARKUS_OPERATOR_SDK_LEADER_ELECTION_ENABLED"))
        .isEqualTo("true");

    JsonNode pdb = get(m, "PodDisruptionBudget/fenced-lock-operator");
    assertThat(pdb.path("spec").path("minAvailable").asInt()).isEqualTo(1);
    assertThat(
            ManifestChecks.selects(
                pdb.path("spec").path("selector"),
                deployment.path("spec").path("template").path("metadata").path("labels")))
        .isTrue();

    // The Lease in the release namespace: created by whoever comes first, then read and renewed
    // by name only.
    JsonNode role = get(m, "Role/fenced-lock-operator-leader");
    assertThat(role.path("metadata").path("namespace").asText()).isEqualTo("voting");
    assertThat(verbs(role, "coordination.k8s.io", "leases", "fenced-lock-operator"))
        .containsExactlyInAnyOrder("get", "list", "watch", "create", "update", "patch");
    assertThat(verbs(role, "coordination.k8s.io", "leases", "another-lease"))
        .containsExactlyInAnyOrder("list", "watch", "create");
    JsonNode binding = get(m, "RoleBinding/fenced-lock-operator-leader");
    assertThat(binding.path("roleRef").path("name").asText())
        .isEqualTo("fenced-lock-operator-leader");
    assertThat(binding.path("subjects").get(0).path("name").asText())
        .isEqualTo(
            deployment
                .path("spec")
                .path("template")
                .path("spec")
                .path("serviceAccountName")
                .asText());
  }

  @Test
  void theChartGrantsTheOperatorTheLeaseRightsOfItsRenderedManifests() throws IOException {
    List<Manifest> m = raw();
    JsonNode operator = get(m, "Role/fenced-lock-operator");
    JsonNode leader = get(m, "Role/fenced-lock-operator-leader");
    JsonNode shipped =
        ofKind(
                Manifest.parseAll(
                    Files.readString(Helm.ROOT.resolve("k8s/operator/lock-operator.yml"))),
                "Role")
            .get(0)
            .tree();
    // The KubernetesLease ledger, leader election's Lease, and any other Lease (a lock's).
    for (String name : List.of("fenced-ledger", "fenced-lock-operator", "poll-1")) {
      Set<String> chart = new TreeSet<>(verbs(operator, "coordination.k8s.io", "leases", name));
      chart.addAll(verbs(leader, "coordination.k8s.io", "leases", name));
      assertThat(chart)
          .as("lease %s: the chart's operator Roles against k8s/operator/lock-operator.yml", name)
          .isEqualTo(verbs(shipped, "coordination.k8s.io", "leases", name));
    }
    // The ledger Lease is read and updated by name; a lock's Lease is only listed and watched
    // (a deleted one is recorded in the ledger), never written by the operator.
    assertThat(verbs(operator, "coordination.k8s.io", "leases", "fenced-ledger"))
        .containsExactlyInAnyOrder("list", "watch", "create", "get", "update");
    assertThat(verbs(operator, "coordination.k8s.io", "leases", "poll-1"))
        .containsExactlyInAnyOrder("list", "watch", "create");
  }

  @Test
  void oneOperatorWithoutLeaderElectionIsReplacedNotRolled() {
    List<Manifest> m = raw("--set", "operator.replicas=1,operator.leaderElection=false");
    JsonNode deployment = get(m, "Deployment/fenced-lock-operator");
    assertThat(deployment.path("spec").path("strategy").path("type").asText())
        .isEqualTo("Recreate");
    assertThat(env(container(deployment), "QUARKUS_OPERATOR_SDK_LEADER_ELECTION_ENABLED"))
        .isEqualTo("false");
    assertThat(m).extracting(Manifest::id).doesNotContain("Role/fenced-lock-operator-leader");
    // A budget for one pod would block every drain of its node.
    assertThat(m)
        .extracting(Manifest::id)
        .doesNotContain("PodDisruptionBudget/fenced-lock-operator");
  }

  // --- the default LockPolicies: applied on install and upgrade, deleted before uninstall -----

  @Test
  void theDefaultPoliciesAreAppliedAfterEveryInstallAndUpgrade() throws IOException {
    List<Manifest> m = raw();
    // Not release objects (Helm could not map them before the CRD exists), and no install-only
    // hook.
    assertThat(ofKind(m, "LockPolicy")).isEmpty();

    JsonNode apply = get(m, "Job/fenced-policies-apply");
    assertThat(hook(apply)).isEqualTo("post-install,post-upgrade");
    assertThat(args(apply))
        .containsExactly(
            "apply", "--namespace", "voting", "--filename", "/policies/lockpolicies.yaml");
    JsonNode volumes = apply.path("spec").path("template").path("spec").path("volumes");
    assertThat(volumes.findValuesAsText("name")).contains("fenced-lockpolicies");

    JsonNode configMap = get(m, "ConfigMap/fenced-lockpolicies");
    List<Manifest> policies =
        Manifest.parseAll(configMap.path("data").path("lockpolicies.yaml").asText());
    assertThat(policies)
        .extracting(Manifest::id)
        .containsExactly("LockPolicy/vote-counters", "LockPolicy/tally-owners");
    assertThat(policies).allSatisfy(p -> assertThat(hook(p.tree())).isNull());

    String sa =
        apply.path("spec").path("template").path("spec").path("serviceAccountName").asText();
    JsonNode role = get(m, "Role/" + sa);
    assertThat(verbs(role, "locks.fenced.dev", "lockpolicies", "vote-counters"))
        .contains("get", "create", "patch");
  }

  @Test
  void anUpgradeToAnotherBackendChangesThePoliciesItApplies() {
    List<Manifest> before = Manifest.withAppliedPolicies(raw());
    List<Manifest> after =
        Manifest.withAppliedPolicies(
            raw("--set", "locks.backend=Postgres,locks.postgresMode=Advisory"));
    JsonNode redis = get(before, "LockPolicy/vote-counters").path("spec").path("backend");
    JsonNode postgres = get(after, "LockPolicy/vote-counters").path("spec").path("backend");
    assertThat(redis.path("type").asText()).isEqualTo("Redis");
    assertThat(postgres.path("type").asText()).isEqualTo("Postgres");
    assertThat(postgres.has("redis")).isFalse();
    assertThat(postgres.path("postgres").path("mode").asText()).isEqualTo("Advisory");
    assertThat(postgres.path("postgres").path("credentialsSecretRef").path("name").asText())
        .isEqualTo("fenced-postgresql");
    // The same Job runs after the upgrade: the operator sees a new backend and raises the epoch.
    assertThat(hook(get(after, "Job/fenced-policies-apply"))).contains("post-upgrade");
  }

  @Test
  void beforeAnUninstallAJobDeletesThePoliciesWhileTheOperatorRuns() throws IOException {
    for (List<Manifest> m : List.of(raw(), raw("--set", "crds.enabled=false"))) {
      JsonNode delete = get(m, "Job/fenced-policies-delete");
      assertThat(hook(delete)).isEqualTo("pre-delete");
      JsonNode pod = delete.path("spec").path("template").path("spec");
      assertThat(pod.path("initContainers")).hasSize(1);
      // First by label: every policy this release applied.
      List<String> byLabel = new ArrayList<>();
      pod.path("initContainers").get(0).path("args").forEach(a -> byLabel.add(a.asText()));
      assertThat(byLabel)
          .startsWith("delete", "lockpolicies", "--namespace", "voting")
          .contains("--wait", "--ignore-not-found", "--timeout=120s");
      String selector = byLabel.get(byLabel.indexOf("--selector") + 1);
      Map<String, String> wanted = new LinkedHashMap<>();
      for (String kv : selector.split(",")) {
        wanted.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      }
      List<Manifest> policies = ofKind(Manifest.withAppliedPolicies(m), "LockPolicy");
      assertThat(policies).hasSize(2);
      assertThat(policies)
          .allSatisfy(
              p -> {
                JsonNode labels = p.tree().path("metadata").path("labels");
                wanted.forEach((k, v) -> assertThat(labels.path(k).asText()).as(k).isEqualTo(v));
                assertThat(p.tree().path("metadata").path("namespace").asText())
                    .isEqualTo("voting");
              });
      // Then by name: `kubectl apply -f k8s/examples/...` replaces a policy of the chart's name
      // with one that has none of its labels, which the selector no longer finds.
      List<String> byName = args(delete);
      assertThat(byName)
          .startsWith("delete")
          .contains("--namespace", "voting", "--wait", "--ignore-not-found", "--timeout=120s")
          .doesNotContain("--selector", "--all");
      List<String> named =
          byName.stream()
              .filter(a -> a.startsWith("lockpolicies/"))
              .map(a -> a.substring(13))
              .toList();
      assertThat(named)
          .containsExactlyInAnyOrderElementsOf(
              policies.stream().map(p -> p.tree().path("metadata").path("name").asText()).toList());
      for (Path example : examples()) {
        for (Manifest e : ofKind(Manifest.parseAll(Files.readString(example)), "LockPolicy")) {
          JsonNode p = e.tree();
          assertThat(
                  p.path("metadata")
                      .path("labels")
                      .path("app.kubernetes.io/instance")
                      .isMissingNode())
              .as("%s carries no release label, so only the delete by name finds it", example)
              .isTrue();
          assertThat(named)
              .as("%s replaces one of the chart's policies", example)
              .contains(p.path("metadata").path("name").asText());
        }
      }
      String sa =
          delete.path("spec").path("template").path("spec").path("serviceAccountName").asText();
      assertThat(verbs(get(m, "Role/" + sa), "locks.fenced.dev", "lockpolicies", "vote-counters"))
          .contains("delete", "list", "watch");
      // Its pod may reach the API server and nothing else.
      JsonNode np = get(m, "NetworkPolicy/fenced-policy-jobs");
      assertThat(np.path("spec").path("ingress")).isEmpty();
      assertThat(np.path("spec").path("egress")).hasSize(2);
    }
  }

  @Test
  void withTheCrdInstalledBeforehandThePoliciesAreReleaseObjects() {
    List<Manifest> m = raw("--set", "crds.enabled=false");
    assertThat(ofKind(m, "LockPolicy"))
        .hasSize(2)
        .allSatisfy(p -> assertThat(hook(p.tree())).isNull());
    assertThat(m)
        .extracting(Manifest::id)
        .doesNotContain("Job/fenced-policies-apply", "ConfigMap/fenced-lockpolicies");
  }

  // --- monitoring ------------------------------------------------------------------------------

  @Test
  void prometheusObjectsAppearOnlyWhereTheClusterServesTheirApi() throws IOException {
    List<Manifest> plain = raw();
    assertThat(plain).extracting(Manifest::kind).doesNotContain("ServiceMonitor", "PrometheusRule");
    // Without a scraper the NetworkPolicies keep /q/metrics closed.
    assertThat(get(plain, "NetworkPolicy/fenced-tally-worker").path("spec").path("ingress"))
        .isEmpty();

    List<Manifest> m =
        raw(
            "--api-versions",
            "monitoring.coreos.com/v1/ServiceMonitor",
            "--api-versions",
            "monitoring.coreos.com/v1/PrometheusRule");
    JsonNode sm = get(m, "ServiceMonitor/fenced");
    assertThat(sm.path("spec").path("endpoints").get(0).path("path").asText())
        .isEqualTo("/q/metrics");
    assertThat(ManifestChecks.monitoring(m)).isEmpty();
    // The scraper is let in to the port it scrapes.
    JsonNode ingress = get(m, "NetworkPolicy/fenced-tally-worker").path("spec").path("ingress");
    assertThat(ingress).hasSize(1);
    assertThat(ingress.get(0).path("ports").get(0).path("port").asInt()).isEqualTo(8080);

    // The alerts are the file promtool tests, unchanged.
    JsonNode file = YAML.readTree(MONITORING.resolve("alerts.yaml").toFile());
    assertThat(get(m, "PrometheusRule/fenced").path("spec").path("groups"))
        .isEqualTo(file.path("groups"));
  }

  @Test
  void theDashboardIsTheFileInAConfigMapForGrafanasSidecar() throws IOException {
    JsonNode cm = get(raw(), "ConfigMap/fenced-dashboard");
    assertThat(cm.path("metadata").path("labels").path("grafana_dashboard").asText())
        .isEqualTo("1");
    String json = cm.path("data").path("fenced.json").asText();
    assertThat(JSON.readTree(json))
        .isEqualTo(JSON.readTree(MONITORING.resolve("dashboard.json").toFile()));
    assertThat(raw("--set", "monitoring.dashboard.enabled=false"))
        .extracting(Manifest::id)
        .doesNotContain("ConfigMap/fenced-dashboard");
  }

  @Test
  void theMonitoringProfileLabelsDropsAndPlacesWhatItSays() throws IOException {
    List<Manifest> m = profile("monitoring");
    assertThat(
            get(m, "ServiceMonitor/fenced")
                .path("metadata")
                .path("labels")
                .path("release")
                .asText())
        .isEqualTo("kube-prometheus-stack");
    JsonNode groups = get(m, "PrometheusRule/fenced").path("spec").path("groups");
    List<String> alerts = groups.findValuesAsText("alert");
    Set<String> inFile =
        new HashSet<>(
            YAML.readTree(MONITORING.resolve("alerts.yaml").toFile()).findValuesAsText("alert"));
    inFile.remove("FencedFenceRejections");
    assertThat(alerts).containsExactlyInAnyOrderElementsOf(inFile);
    for (JsonNode group : groups) {
      for (JsonNode rule : group.path("rules")) {
        assertThat(rule.path("labels").path("team").asText()).isEqualTo("voting");
        assertThat(rule.path("labels").path("severity").asText()).isNotEmpty();
      }
    }
    JsonNode dashboard = get(m, "ConfigMap/fenced-dashboard");
    assertThat(dashboard.path("metadata").path("namespace").asText()).isEqualTo("monitoring");
    assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText())
        .isEqualTo("fenced");
    assertThat(dashboard.path("metadata").path("annotations").path("grafana_folder").asText())
        .isEqualTo("fenced");
  }

  // --- values platform teams set ---------------------------------------------------------------

  @Test
  void thePlatformProfileReachesEveryPod() {
    List<Manifest> m = profile("platform");
    // GitOps: credentials from existing Secrets, nothing generated, nothing looked up.
    assertThat(ofKind(m, "Secret")).isEmpty();

    // Every image pinned by content: the project's, the in-chart backends', the Jobs' and tests'.
    List<String> images = new ArrayList<>();
    for (Manifest o : m) {
      JsonNode pod =
          o.kind().equals("Pod")
              ? o.tree().path("spec")
              : o.tree().path("spec").path("template").path("spec");
      for (String field : List.of("initContainers", "containers")) {
        pod.path(field).forEach(c -> images.add(o.id() + " " + c.path("image").asText()));
      }
    }
    assertThat(images)
        .hasSizeGreaterThanOrEqualTo(8)
        .allSatisfy(i -> assertThat(i).containsPattern("@sha256:[0-9a-f]{64}$"));

    JsonNode operator = get(m, "Deployment/fenced-lock-operator");
    assertThat(container(operator).path("image").asText())
        .isEqualTo(
            "fenced/lock-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assertThat(
            operator.path("spec").path("template").path("spec").path("priorityClassName").asText())
        .isEqualTo("platform-critical");
    assertThat(
            get(m, "PodDisruptionBudget/fenced-lock-operator")
                .path("spec")
                .path("minAvailable")
                .asInt())
        .isEqualTo(2);
    assertThat(
            get(m, "ServiceAccount/fenced-lock-operator")
                .path("metadata")
                .path("annotations")
                .path("eks.amazonaws.com/role-arn")
                .asText())
        .startsWith("arn:aws:iam::");

    JsonNode vote = get(m, "Deployment/fenced-vote-api");
    JsonNode pod = vote.path("spec").path("template");
    assertThat(pod.path("metadata").path("labels").path("cost-center").asText())
        .isEqualTo("voting");
    assertThat(vote.path("spec").path("selector").path("matchLabels").has("cost-center")).isFalse();
    assertThat(
            pod.path("metadata")
                .path("annotations")
                .path("cluster-autoscaler.kubernetes.io/safe-to-evict")
                .asText())
        .isEqualTo("true");
    JsonNode spread = pod.path("spec").path("topologySpreadConstraints").get(0);
    assertThat(spread.path("topologyKey").asText()).isEqualTo("topology.kubernetes.io/zone");
    // No labelSelector given: the component's own pods are counted.
    assertThat(
            ManifestChecks.selects(
                spread.path("labelSelector"), pod.path("metadata").path("labels")))
        .isTrue();
    assertThat(
            spread
                .path("labelSelector")
                .path("matchLabels")
                .path("app.kubernetes.io/component")
                .asText())
        .isEqualTo("vote-api");
    assertThat(
            get(m, "ServiceAccount/fenced-vote-api")
                .path("metadata")
                .path("annotations")
                .path("iam.gke.io/gcp-service-account")
                .asText())
        .startsWith("vote-api@");
    JsonNode tallySpread =
        get(m, "Deployment/fenced-tally-worker")
            .path("spec")
            .path("template")
            .path("spec")
            .path("topologySpreadConstraints")
            .get(0);
    assertThat(tallySpread.path("labelSelector").path("matchLabels").size()).isEqualTo(1);

    JsonNode ingress = get(m, "Ingress/fenced-vote-api").path("spec");
    List<String> hosts = ingress.path("rules").findValuesAsText("host");
    assertThat(hosts).containsExactly("vote.example.com", "vote.example.org", "stimme.example.de");
    assertThat(ingress.path("tls").get(0).path("hosts").toString())
        .isEqualTo("[\"vote.example.com\",\"vote.example.org\",\"stimme.example.de\"]");
    for (JsonNode rule : ingress.path("rules")) {
      // The page and the API reach vote-api; its /q endpoints (metrics, health) do not.
      JsonNode paths = rule.path("http").path("paths");
      assertThat(paths.findValuesAsText("path")).containsExactly("/", "/ui", "/api");
      assertThat(paths.findValuesAsText("pathType")).containsExactly("Exact", "Prefix", "Prefix");
      assertThat(paths.findValues("service"))
          .extracting(s -> s.path("name").asText())
          .containsOnly("fenced-vote-api");
    }

    // Both the operator and the services may read the extra Secret, and only by name.
    assertThat(ManifestChecks.secretAccess(Manifest.withAppliedPolicies(m))).isEmpty();
    assertThat(
            ManifestChecks.texts(
                get(m, "Role/fenced-services").path("rules").get(1).path("resourceNames")))
        .containsExactlyInAnyOrder("fenced-postgresql", "fenced-redis", "team-redis");
  }

  @Test
  void byDefaultEachPollsVotesMeetInOneReplicaAndAffinityNoneLeavesTheBalancingAlone() {
    JsonNode hashed = get(raw(), "Ingress/fenced-vote-api").path("metadata").path("annotations");
    assertThat(hashed.path("nginx.ingress.kubernetes.io/upstream-hash-by").asText())
        .isEqualTo("$uri");
    // Hashing chooses the replica; it must not turn replays of a POST back on.
    assertThat(hashed.path("nginx.ingress.kubernetes.io/proxy-next-upstream").asText())
        .isEqualTo("off");

    JsonNode spread =
        get(raw("--set", "ingress.affinity=none"), "Ingress/fenced-vote-api")
            .path("metadata")
            .path("annotations");
    assertThat(spread.has("nginx.ingress.kubernetes.io/upstream-hash-by")).isFalse();
    assertThat(spread.path("nginx.ingress.kubernetes.io/proxy-next-upstream").asText())
        .isEqualTo("off");
  }

  @Test
  void artifactHubListsTheImagesADefaultInstallRuns() throws IOException {
    JsonNode chart = YAML.readTree(Helm.CHART.resolve("Chart.yaml").toFile());
    Set<String> listed = new TreeSet<>();
    for (JsonNode image :
        YAML.readTree(chart.path("annotations").path("artifacthub.io/images").asText())) {
      listed.add(image.path("image").asText());
    }
    Set<String> rendered = new TreeSet<>();
    for (Manifest m : raw()) {
      ManifestChecks.containers(m).forEach(c -> rendered.add(c.path("image").asText()));
    }
    assertThat(listed).isEqualTo(rendered);
    assertThat(Files.readString(Helm.ROOT.resolve("LICENSE"))).contains("Apache License");
    assertThat(chart.path("annotations").path("artifacthub.io/license").asText())
        .isEqualTo("Apache-2.0");
  }

  @Test
  void theChartAdmitsNoKubernetesThatWouldRefuseItsCrd() throws IOException {
    // x-kubernetes-validations[].fieldPath (and reason) came with Kubernetes 1.28.
    String crd =
        Files.readString(Helm.ROOT.resolve("k8s/crds/lockpolicies.locks.fenced.dev-v1.yml"));
    String kubeVersion =
        YAML.readTree(Helm.CHART.resolve("Chart.yaml").toFile()).path("kubeVersion").asText();
    java.util.regex.Matcher lower =
        java.util.regex.Pattern.compile("^>=\\s*1\\.(\\d+)").matcher(kubeVersion);
    assertThat(lower.find()).as("kubeVersion %s has a lower bound", kubeVersion).isTrue();
    if (crd.contains("fieldPath:") || crd.contains("reason:")) {
      assertThat(Integer.parseInt(lower.group(1))).isGreaterThanOrEqualTo(28);
    }
  }
}
