package dev.fenced.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.fenced.lock.policy.LockPolicyValidator;
import dev.fenced.lock.policy.LockPolicyYaml;
import dev.fenced.lock.policy.Violation;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The static checks of rendered manifests. Each returns the problems it found, one line each,
 * naming the object and the field; an empty list means the check passed.
 */
final class ManifestChecks {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final YAMLMapper YAML = new YAMLMapper();

  /** Environment variable names that carry a credential and so must come from a Secret. */
  private static final Pattern SECRET_ENV_NAME =
      Pattern.compile("(?i).*(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|_AUTH$|APIKEY|API_KEY).*");

  /** A credential assignment in free text, e.g. {@code password=hunter2} or {@code PASSWORD: x}. */
  private static final Pattern SECRET_ASSIGNMENT =
      Pattern.compile("(?i)(password|passwd|secret)[\"']?\\s*[:=]\\s*[\"']?[^\\s\"'$]");

  /** A URL with a password in it, e.g. {@code redis://:pw@host} or {@code postgres://u:pw@h}. */
  private static final Pattern URL_WITH_PASSWORD = Pattern.compile("://[^/\\s@]*:[^/\\s@]+@");

  private ManifestChecks() {}

  // ---------------------------------------------------------------------------------------------
  // Typed model

  /**
   * Reads the object into its typed model: Fabric8's for Kubernetes kinds, lock-sdk's for
   * LockPolicy (strict, then {@link LockPolicyValidator}). A kind the model does not know, a field
   * it does not know (Fabric8 keeps those in {@code additionalProperties}, so they are looked for
   * there) and a value that does not survive the round trip unchanged are problems.
   */
  static List<String> typedModel(Manifest m) {
    List<String> problems = new ArrayList<>();
    if (m.kind().equals("LockPolicy")) {
      return lockPolicy(m);
    }
    Object typed;
    try {
      typed = SERIALIZATION.unmarshal(JSON.writeValueAsString(m.tree()), KubernetesResource.class);
    } catch (Exception e) {
      problems.add(m.id() + ": does not read into the Kubernetes model: " + rootMessage(e));
      return problems;
    }
    if (typed == null || typed instanceof GenericKubernetesResource) {
      problems.add(
          m.id() + ": kind " + m.apiVersion() + "/" + m.kind() + " is unknown to the typed model");
      return problems;
    }
    unknownFields(typed, m.id(), problems);
    JsonNode back;
    try {
      back = JSON.readTree(SERIALIZATION.asJson(typed));
    } catch (Exception e) {
      problems.add(m.id() + ": does not write back from the Kubernetes model: " + rootMessage(e));
      return problems;
    }
    lostValues(m.tree(), back, m.id(), "", problems);
    return problems;
  }

  private static List<String> lockPolicy(Manifest m) {
    List<String> problems = new ArrayList<>();
    LockPolicyYaml.Result read = LockPolicyYaml.read(m.source(), m.yaml());
    read.problems().forEach(p -> problems.add(m.id() + ": " + p));
    for (LockPolicy policy : read.policies()) {
      List<Violation> violations = LockPolicyValidator.validate(policy);
      if (!violations.isEmpty()) {
        problems.add(m.id() + ": " + LockPolicyValidator.describe(policy, violations));
      }
    }
    if (problems.isEmpty() && read.policies().size() != 1) {
      problems.add(m.id() + ": expected one LockPolicy, read " + read.policies().size());
    }
    return problems;
  }

  /** Walks the typed object graph and reports every non-empty additionalProperties map. */
  private static void unknownFields(Object o, String path, List<String> problems) {
    if (o == null) {
      return;
    }
    if (o instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, problems));
      return;
    }
    if (o instanceof Collection<?> list) {
      int i = 0;
      for (Object e : list) {
        unknownFields(e, path + "[" + i++ + "]", problems);
      }
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : o.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || !getter.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonProperty.class)
              && !getter.getName().equals("getAdditionalProperties")) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(o);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          problems.add(path + ": unknown field(s) " + extra.keySet());
        }
      } else {
        String name =
            getter.getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class).value();
        unknownFields(value, path + "." + name, problems);
      }
    }
  }

  /** Every value of the rendered tree must come back unchanged from the typed model. */
  private static void lostValues(
      JsonNode original, JsonNode back, String id, String path, List<String> problems) {
    if (original.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = original.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode b = back == null ? null : back.get(f.getKey());
        String p = path + "." + f.getKey();
        if (f.getValue().isNull()) {
          continue;
        }
        if (b == null || b.isNull()) {
          if (!isEmptyContainer(f.getValue())) {
            problems.add(id + ": " + p + " is lost by the typed model");
          }
          continue;
        }
        lostValues(f.getValue(), b, id, p, problems);
      }
    } else if (original.isArray()) {
      if (back == null || !back.isArray() || back.size() != original.size()) {
        problems.add(id + ": " + path + " changes in the typed model");
        return;
      }
      for (int i = 0; i < original.size(); i++) {
        lostValues(original.get(i), back.get(i), id, path + "[" + i + "]", problems);
      }
    } else if (back == null || !back.isValueNode() || !original.asText().equals(back.asText())) {
      problems.add(
          id + ": " + path + " = " + original + " comes back from the typed model as " + back);
    }
  }

  private static boolean isEmptyContainer(JsonNode n) {
    return (n.isObject() || n.isArray()) && n.isEmpty();
  }

  private static String rootMessage(Throwable e) {
    while (e.getCause() != null) {
      e = e.getCause();
    }
    String message = e.getMessage();
    return message == null ? e.toString() : message.lines().findFirst().orElse(message);
  }

  // ---------------------------------------------------------------------------------------------
  // Secrets

  /**
   * No credential in plain text: Secrets have no {@code stringData} and carry data only when the
   * chart generates them; no credential-named env var has a literal {@code value}; no ConfigMap
   * assigns a password; no URL carries a password; and no Secret's value shows up anywhere outside
   * its Secret, plain or base64.
   */
  static List<String> plainTextSecrets(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    Set<String> secretValues = new HashSet<>();
    for (Manifest m : manifests) {
      if (!m.kind().equals("Secret")) {
        continue;
      }
      if (m.tree().has("stringData")) {
        problems.add(m.id() + ": stringData puts a credential in plain text");
      }
      JsonNode data = m.tree().path("data");
      boolean generated =
          "true"
              .equals(
                  m.tree()
                      .path("metadata")
                      .path("annotations")
                      .path("fenced.dev/generated-secret")
                      .asText());
      if (!data.isEmpty() && !generated) {
        problems.add(m.id() + ": the chart must not carry a Secret's values given in values.yaml");
      }
      data.fields()
          .forEachRemaining(
              f -> {
                String encoded = f.getValue().asText();
                String decoded =
                    new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
                if (decoded.length() >= 8) {
                  secretValues.add(decoded);
                  secretValues.add(encoded);
                }
              });
    }
    for (Manifest m : manifests) {
      if (m.kind().equals("Secret")) {
        continue;
      }
      for (String value : secretValues) {
        if (m.yaml().contains(value)) {
          problems.add(m.id() + ": holds the value of a Secret");
        }
      }
      if (URL_WITH_PASSWORD.matcher(m.yaml()).find()) {
        problems.add(m.id() + ": a URL carries a password");
      }
      if (m.kind().equals("ConfigMap")) {
        m.tree()
            .path("data")
            .fields()
            .forEachRemaining(
                f -> {
                  if (SECRET_ASSIGNMENT.matcher(f.getValue().asText()).find()) {
                    problems.add(m.id() + ": data." + f.getKey() + " assigns a credential");
                  }
                });
      }
      for (JsonNode container : containers(m)) {
        for (JsonNode env : container.path("env")) {
          String name = env.path("name").asText();
          if (SECRET_ENV_NAME.matcher(name).matches() && env.has("value")) {
            problems.add(
                m.id()
                    + ": container "
                    + container.path("name").asText()
                    + " env "
                    + name
                    + " has a literal value; take it from a Secret (valueFrom.secretKeyRef)");
          }
        }
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Security contexts

  /**
   * Every container runs as non-root, with a read-only root file system, no privilege escalation,
   * all capabilities dropped and the RuntimeDefault seccomp profile (container or pod level).
   */
  static List<String> securityContexts(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    for (Manifest m : manifests) {
      JsonNode pod = podSpec(m);
      if (pod == null) {
        continue;
      }
      JsonNode podSc = pod.path("securityContext");
      if (podSc.path("runAsUser").asInt(-1) == 0) {
        problems.add(m.id() + ": the pod runs as root (runAsUser 0)");
      }
      for (JsonNode c : containers(m)) {
        String where = m.id() + ": container " + c.path("name").asText();
        JsonNode sc = c.path("securityContext");
        if (sc.isMissingNode()) {
          problems.add(where + " has no securityContext");
          continue;
        }
        boolean nonRoot =
            sc.has("runAsNonRoot")
                ? sc.path("runAsNonRoot").asBoolean()
                : podSc.path("runAsNonRoot").asBoolean();
        if (!nonRoot) {
          problems.add(where + ": runAsNonRoot is not true");
        }
        if (sc.path("runAsUser").asInt(-1) == 0) {
          problems.add(where + ": runAsUser is 0");
        }
        if (!sc.path("readOnlyRootFilesystem").asBoolean()) {
          problems.add(where + ": readOnlyRootFilesystem is not true");
        }
        if (!sc.has("allowPrivilegeEscalation")
            || sc.path("allowPrivilegeEscalation").asBoolean()) {
          problems.add(where + ": allowPrivilegeEscalation is not false");
        }
        if (sc.path("privileged").asBoolean()) {
          problems.add(where + ": privileged");
        }
        boolean dropsAll = false;
        for (JsonNode cap : sc.path("capabilities").path("drop")) {
          dropsAll |= cap.asText().equals("ALL");
        }
        if (!dropsAll) {
          problems.add(where + ": capabilities.drop does not hold ALL");
        }
        if (!sc.path("capabilities").path("add").isEmpty()) {
          problems.add(where + ": capabilities.add is not empty");
        }
        String seccomp =
            sc.path("seccompProfile")
                .path("type")
                .asText(podSc.path("seccompProfile").path("type").asText(""));
        if (!seccomp.equals("RuntimeDefault") && !seccomp.equals("Localhost")) {
          problems.add(where + ": seccompProfile is not RuntimeDefault");
        }
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Network policies

  /**
   * NetworkPolicies are rendered, and every pod is selected by one that restricts both its ingress
   * and its egress.
   */
  static List<String> networkPolicies(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    List<Manifest> policies =
        manifests.stream().filter(m -> m.kind().equals("NetworkPolicy")).toList();
    if (policies.isEmpty()) {
      problems.add("no NetworkPolicy is rendered");
      return problems;
    }
    for (Manifest m : manifests) {
      JsonNode labels = podLabels(m);
      if (labels == null) {
        continue;
      }
      boolean ingress = false;
      boolean egress = false;
      for (Manifest np : policies) {
        JsonNode spec = np.tree().path("spec");
        if (selects(spec.path("podSelector"), labels)) {
          for (JsonNode t : spec.path("policyTypes")) {
            ingress |= t.asText().equals("Ingress");
            egress |= t.asText().equals("Egress");
          }
        }
      }
      if (!ingress) {
        problems.add(m.id() + ": no NetworkPolicy restricts the ingress of its pods");
      }
      if (!egress) {
        problems.add(m.id() + ": no NetworkPolicy restricts the egress of its pods");
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Cross references

  /**
   * Objects that name each other agree: every Service, PodDisruptionBudget and NetworkPolicy label
   * selector of a component selects a rendered pod; every HPA scales a rendered Deployment; every
   * Ingress backend is a rendered Service; every binding's role is rendered; the project's
   * Deployments probe Quarkus health; the nginx Ingress never replays a request.
   */
  static List<String> crossReferences(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    List<JsonNode> podLabels = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (Manifest m : manifests) {
      ids.add(m.id());
      JsonNode labels = podLabels(m);
      if (labels != null) {
        podLabels.add(labels);
      }
    }
    for (Manifest m : manifests) {
      JsonNode spec = m.tree().path("spec");
      switch (m.kind()) {
        case "Service" -> {
          JsonNode selector = spec.path("selector");
          if (podLabels.stream().noneMatch(l -> matches(selector, l))) {
            problems.add(m.id() + ": its selector matches no rendered pod");
          }
        }
        case "PodDisruptionBudget" -> {
          JsonNode selector = spec.path("selector");
          if (podLabels.stream().noneMatch(l -> selects(selector, l))) {
            problems.add(m.id() + ": its selector matches no rendered pod");
          }
        }
        case "HorizontalPodAutoscaler" -> {
          String target =
              spec.path("scaleTargetRef").path("kind").asText()
                  + "/"
                  + spec.path("scaleTargetRef").path("name").asText();
          if (!ids.contains(target)) {
            problems.add(m.id() + ": scales " + target + ", which is not rendered");
          }
        }
        case "Ingress" -> {
          for (JsonNode rule : spec.path("rules")) {
            for (JsonNode path : rule.path("http").path("paths")) {
              String svc = "Service/" + path.path("backend").path("service").path("name").asText();
              if (!ids.contains(svc)) {
                problems.add(m.id() + ": routes to " + svc + ", which is not rendered");
              }
            }
          }
          if (spec.path("ingressClassName").asText().equals("nginx")
              && !m.tree()
                  .path("metadata")
                  .path("annotations")
                  .path("nginx.ingress.kubernetes.io/proxy-next-upstream")
                  .asText()
                  .equals("off")) {
            problems.add(
                m.id()
                    + ": nginx may replay a POST on another replica (proxy-next-upstream not off)");
          }
        }
        case "RoleBinding", "ClusterRoleBinding" -> {
          String role =
              m.tree().path("roleRef").path("kind").asText()
                  + "/"
                  + m.tree().path("roleRef").path("name").asText();
          if (!ids.contains(role)) {
            problems.add(m.id() + ": binds " + role + ", which is not rendered");
          }
        }
        case "Deployment" -> {
          for (JsonNode c : containers(m)) {
            if (!c.path("livenessProbe")
                    .path("httpGet")
                    .path("path")
                    .asText()
                    .equals("/q/health/live")
                || !c.path("readinessProbe")
                    .path("httpGet")
                    .path("path")
                    .asText()
                    .equals("/q/health/ready")) {
              problems.add(
                  m.id()
                      + ": container "
                      + c.path("name").asText()
                      + " does not probe /q/health/live and /q/health/ready");
            }
          }
        }
        default -> {}
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Secret access

  /**
   * Secrets are read by name only, and the operator reads exactly the Secrets the services read, so
   * that a LockPolicy the operator marks Ready is one the services can use: every Role or
   * ClusterRole rule on secrets lists resourceNames and grants nothing but get; the operator's
   * names equal the services'; every Secret a rendered LockPolicy references is among them.
   */
  static List<String> secretAccess(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    Set<String> services = null;
    List<Manifest> operatorRoles = new ArrayList<>();
    Map<Manifest, Set<String>> names = new java.util.LinkedHashMap<>();
    for (Manifest m : manifests) {
      if (!m.kind().equals("Role") && !m.kind().equals("ClusterRole")) {
        continue;
      }
      for (JsonNode rule : m.tree().path("rules")) {
        if (!contains(rule.path("resources"), "secrets")) {
          continue;
        }
        Set<String> verbs = texts(rule.path("verbs"));
        if (!verbs.equals(Set.of("get"))) {
          problems.add(m.id() + ": may " + verbs + " secrets; only get, by name, is needed");
        }
        if (rule.path("resourceNames").isEmpty()) {
          problems.add(m.id() + ": reads every Secret; list them by name (resourceNames)");
          continue;
        }
        names.put(m, texts(rule.path("resourceNames")));
        String component =
            m.tree().path("metadata").path("labels").path("app.kubernetes.io/component").asText();
        if (component.equals("services")) {
          services = names.get(m);
        } else if (component.equals("lock-operator")) {
          operatorRoles.add(m);
        }
      }
    }
    if (services == null) {
      problems.add("no Role lets the services read their Secrets");
      return problems;
    }
    for (Manifest role : operatorRoles) {
      if (!names.get(role).equals(services)) {
        problems.add(
            role.id()
                + ": the operator may read Secrets "
                + names.get(role)
                + " but the services "
                + services
                + ": a policy could be Ready with credentials the services are refused");
      }
    }
    for (Manifest m : manifests) {
      if (!m.kind().equals("LockPolicy")) {
        continue;
      }
      JsonNode backend = m.tree().path("spec").path("backend");
      for (JsonNode ref :
          List.of(
              backend.path("redis").path("passwordSecretRef"),
              backend.path("postgres").path("credentialsSecretRef"))) {
        String name = ref.path("name").asText(null);
        if (name != null && !services.contains(name)) {
          problems.add(
              m.id() + ": references Secret " + name + ", which the services may not read");
        }
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Monitoring

  /**
   * The monitoring objects fit the rest: every ServiceMonitor selects the Services of vote-api,
   * tally-worker and (when rendered) the operator, each of which has the scraped port; every rule
   * of a PrometheusRule has an expression; every dashboard ConfigMap holds JSON with panels.
   */
  static List<String> monitoring(List<Manifest> manifests) {
    List<String> problems = new ArrayList<>();
    List<Manifest> services = manifests.stream().filter(m -> m.kind().equals("Service")).toList();
    for (Manifest m : manifests) {
      switch (m.kind()) {
        case "ServiceMonitor" -> {
          JsonNode spec = m.tree().path("spec");
          Set<String> scraped = new java.util.TreeSet<>();
          for (Manifest svc : services) {
            if (!selects(spec.path("selector"), svc.tree().path("metadata").path("labels"))) {
              continue;
            }
            scraped.add(
                svc.tree()
                    .path("metadata")
                    .path("labels")
                    .path("app.kubernetes.io/component")
                    .asText());
            for (JsonNode endpoint : spec.path("endpoints")) {
              boolean hasPort = false;
              for (JsonNode port : svc.tree().path("spec").path("ports")) {
                hasPort |= port.path("name").asText().equals(endpoint.path("port").asText());
              }
              if (!hasPort) {
                problems.add(
                    m.id()
                        + ": scrapes port "
                        + endpoint.path("port")
                        + " that "
                        + svc.id()
                        + " lacks");
              }
              if (!endpoint.path("path").asText().equals("/q/metrics")) {
                problems.add(m.id() + ": scrapes " + endpoint.path("path") + ", not /q/metrics");
              }
            }
          }
          Set<String> expected = new java.util.TreeSet<>(Set.of("vote-api", "tally-worker"));
          if (manifests.stream().anyMatch(x -> x.id().equals("Deployment/fenced-lock-operator"))) {
            expected.add("lock-operator");
          }
          if (!scraped.equals(expected)) {
            problems.add(m.id() + ": selects the Services of " + scraped + ", not " + expected);
          }
        }
        case "PrometheusRule" -> {
          JsonNode groups = m.tree().path("spec").path("groups");
          if (groups.isEmpty()) {
            problems.add(m.id() + ": has no rule group");
          }
          for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
              if (rule.path("expr").asText().isBlank()) {
                problems.add(m.id() + ": rule " + rule.path("alert").asText() + " has no expr");
              }
            }
          }
        }
        case "ConfigMap" -> {
          if (m.tree()
              .path("metadata")
              .path("labels")
              .path("app.kubernetes.io/component")
              .asText()
              .equals("monitoring")) {
            m.tree()
                .path("data")
                .fields()
                .forEachRemaining(
                    f -> {
                      try {
                        if (JSON.readTree(f.getValue().asText()).path("panels").isEmpty()) {
                          problems.add(m.id() + ": dashboard " + f.getKey() + " has no panels");
                        }
                      } catch (Exception e) {
                        problems.add(m.id() + ": " + f.getKey() + " is not JSON: " + e);
                      }
                    });
          }
        }
        default -> {}
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static boolean contains(JsonNode array, String text) {
    for (JsonNode n : array) {
      if (n.asText().equals(text)) {
        return true;
      }
    }
    return false;
  }

  static Set<String> texts(JsonNode array) {
    Set<String> out = new java.util.TreeSet<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The pod spec of a workload or Pod, or null for other kinds. */
  static JsonNode podSpec(Manifest m) {
    JsonNode spec = m.tree().path("spec");
    JsonNode pod =
        switch (m.kind()) {
          case "Pod" -> spec;
          case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job" ->
              spec.path("template").path("spec");
          case "CronJob" -> spec.path("jobTemplate").path("spec").path("template").path("spec");
          default -> null;
        };
    return pod == null || pod.isMissingNode() ? null : pod;
  }

  private static JsonNode podLabels(Manifest m) {
    if (podSpec(m) == null) {
      return null;
    }
    return switch (m.kind()) {
      case "Pod" -> m.tree().path("metadata").path("labels");
      case "CronJob" ->
          m.tree()
              .path("spec")
              .path("jobTemplate")
              .path("spec")
              .path("template")
              .path("metadata")
              .path("labels");
      default -> m.tree().path("spec").path("template").path("metadata").path("labels");
    };
  }

  /** Every container, init container and ephemeral container of a workload. */
  static List<JsonNode> containers(Manifest m) {
    List<JsonNode> out = new ArrayList<>();
    JsonNode pod = podSpec(m);
    if (pod != null) {
      for (String field : List.of("initContainers", "containers", "ephemeralContainers")) {
        pod.path(field).forEach(out::add);
      }
    }
    return out;
  }

  /** A plain map selector (Service): every key/value is among the labels. */
  private static boolean matches(JsonNode selector, JsonNode labels) {
    if (selector.isEmpty()) {
      return false;
    }
    Iterator<Map.Entry<String, JsonNode>> it = selector.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
        return false;
      }
    }
    return true;
  }

  /** A LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
  static boolean selects(JsonNode selector, JsonNode labels) {
    JsonNode matchLabels = selector.path("matchLabels");
    if (!matchLabels.isEmpty() && !matches(matchLabels, labels)) {
      return false;
    }
    for (JsonNode e : selector.path("matchExpressions")) {
      String value = labels.path(e.path("key").asText()).asText(null);
      Set<String> values = new HashSet<>();
      e.path("values").forEach(v -> values.add(v.asText()));
      boolean ok =
          switch (e.path("operator").asText()) {
            case "In" -> value != null && values.contains(value);
            case "NotIn" -> value == null || !values.contains(value);
            case "Exists" -> value != null;
            case "DoesNotExist" -> value == null;
            default -> false;
          };
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** The object as YAML text again, after a test changed its tree. */
  static Manifest withTree(Manifest m, ObjectNode tree) {
    try {
      return new Manifest(m.source(), YAML.writeValueAsString(tree), tree);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
