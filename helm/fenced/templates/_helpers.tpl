{{/* Names */}}
{{- define "fenced.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fenced.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels: call with (dict "ctx" $ "component" "vote-api") */}}
{{- define "fenced.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "fenced.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: fenced
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "fenced.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fenced.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image of a project component: (dict "ctx" $ "image" .Values.voteApi.image); a digest pins it
instead of the tag. */}}
{{- define "fenced.image" -}}
{{- include "fenced.thirdPartyImage" (dict "registry" .ctx.Values.image.registry "repository" .image.repository
      "tag" (.image.tag | default .ctx.Chart.AppVersion) "digest" .image.digest) -}}
{{- end -}}

{{/*
Pod metadata and scheduling of a project component:
(dict "ctx" $ "component" "vote-api" "v" .Values.voteApi)
"fenced.podMetadata" goes under template.metadata, "fenced.podScheduling" under template.spec.
*/}}
{{- define "fenced.podMetadata" -}}
labels:
  {{- include "fenced.labels" (dict "ctx" .ctx "component" .component) | nindent 2 }}
  {{- with .v.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .v.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "fenced.podScheduling" -}}
{{- with .v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .v.topologySpreadConstraints }}
{{- $selector := include "fenced.selectorLabels" (dict "ctx" .ctx "component" .component) | fromYaml }}
topologySpreadConstraints:
  {{- range .v.topologySpreadConstraints }}
  {{- $c := deepCopy . }}
  {{- if not (hasKey $c "labelSelector") }}
  {{- $_ := set $c "labelSelector" (dict "matchLabels" $selector) }}
  {{- end }}
  - {{ toYaml $c | nindent 4 | trim }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* ServiceAccount of a component: (dict "ctx" $ "name" "..." "component" "vote-api" "v" .Values.voteApi) */}}
{{- define "fenced.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
  {{- with .v.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: true
{{- end -}}

{{/* Image of a third-party component (registry/repository/tag/digest in one map; a digest wins over the tag) */}}
{{- define "fenced.thirdPartyImage" -}}
{{- $repo := .repository -}}
{{- if .registry -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" .registry) .repository -}}
{{- end -}}
{{- if .digest -}}
{{- printf "%s@%s" $repo .digest -}}
{{- else -}}
{{- printf "%s:%s" $repo .tag -}}
{{- end -}}
{{- end -}}

{{/* The restricted container securityContext every container gets */}}
{{- define "fenced.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod securityContext: (dict "user" 185 "group" 185 "fsGroup" 185) */}}
{{- define "fenced.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .group }}
fsGroup: {{ .fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "fenced.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Service accounts */}}
{{- define "fenced.operatorServiceAccount" -}}{{ include "fenced.fullname" . }}-lock-operator{{- end -}}
{{- define "fenced.voteApiServiceAccount" -}}{{ include "fenced.fullname" . }}-vote-api{{- end -}}
{{- define "fenced.tallyWorkerServiceAccount" -}}{{ include "fenced.fullname" . }}-tally-worker{{- end -}}

{{/* Backends: names and addresses */}}
{{- define "fenced.postgresql.fullname" -}}{{ include "fenced.fullname" . }}-postgresql{{- end -}}
{{- define "fenced.redis.fullname" -}}{{ include "fenced.fullname" . }}-redis{{- end -}}
{{- define "fenced.etcd.fullname" -}}{{ include "fenced.fullname" . }}-etcd{{- end -}}

{{- define "fenced.postgresql.secretName" -}}
{{- .Values.postgresql.existingSecret | default (include "fenced.postgresql.fullname" .) -}}
{{- end -}}

{{- define "fenced.postgresql.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "fenced.postgresql.fullname" . -}}
{{- else -}}
{{- .Values.postgresql.host -}}
{{- end -}}
{{- end -}}

{{- define "fenced.postgresql.port" -}}
{{- if .Values.postgresql.enabled -}}5432{{- else -}}{{ .Values.postgresql.port }}{{- end -}}
{{- end -}}

{{- define "fenced.redis.secretName" -}}
{{- .Values.redis.auth.existingSecret | default (include "fenced.redis.fullname" .) -}}
{{- end -}}

{{- define "fenced.redis.secretKey" -}}
{{- if .Values.redis.auth.existingSecret -}}{{ .Values.redis.auth.existingSecretKey }}{{- else -}}password{{- end -}}
{{- end -}}

{{/* True (non-empty) when some Redis is reachable: in-chart or external */}}
{{- define "fenced.redis.url" -}}
{{- if .Values.redis.enabled -}}
{{- printf "redis://%s:6379" (include "fenced.redis.fullname" .) -}}
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{- define "fenced.etcd.endpoints" -}}
{{- if .Values.etcd.enabled -}}
{{- list (printf "http://%s:2379" (include "fenced.etcd.fullname" .)) | toJson -}}
{{- else -}}
{{- .Values.etcd.endpoints | toJson -}}
{{- end -}}
{{- end -}}

{{- define "fenced.leaseNamespace" -}}
{{- .Values.kubernetesLease.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* The backend types the default policies use, as a JSON list */}}
{{- define "fenced.usedBackends" -}}
{{- $used := list -}}
{{- if .Values.locks.createPolicies -}}
{{- range .Values.locks.policies -}}
{{- $used = append $used (.backend | default $.Values.locks.backend) -}}
{{- end -}}
{{- end -}}
{{- $used | uniq | toJson -}}
{{- end -}}

{{- define "fenced.leaseRbac" -}}
{{- $used := include "fenced.usedBackends" . | fromJsonArray -}}
{{- if or (eq .Values.rbac.leases "always") (and (eq .Values.rbac.leases "auto") (has "KubernetesLease" $used)) -}}true{{- end -}}
{{- end -}}

{{/* The namespaces the operator watches, as a JSON list (empty when it watches all) */}}
{{- define "fenced.operatorNamespaces" -}}
{{- if .Values.operator.watchAllNamespaces -}}
{{- list | toJson -}}
{{- else -}}
{{- .Values.operator.watchNamespaces | default (list .Release.Namespace) | uniq | toJson -}}
{{- end -}}
{{- end -}}

{{/*
A password that is generated once and kept across upgrades: the value already stored in the
Secret when there is one (lookup), a fresh random one otherwise. Base64, for a Secret's data.
(dict "ctx" $ "name" "secret-name" "key" "password")
*/}}
{{- define "fenced.keptPassword" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* The environment vote-api and tally-worker share */}}
{{- define "fenced.serviceEnv" -}}
- name: QUARKUS_HTTP_PORT
  value: "8080"
- name: FENCED_PG_HOST
  value: {{ include "fenced.postgresql.host" . | quote }}
- name: FENCED_PG_PORT
  value: {{ include "fenced.postgresql.port" . | quote }}
- name: FENCED_PG_DATABASE
  value: {{ .Values.postgresql.database | quote }}
- name: FENCED_PG_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "fenced.postgresql.secretName" . }}
      key: username
- name: FENCED_PG_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "fenced.postgresql.secretName" . }}
      key: password
{{- with include "fenced.redis.url" . }}
- name: FENCED_REDIS_URL
  value: {{ . | quote }}
{{- end }}
{{- if and (include "fenced.redis.url" .) .Values.redis.auth.enabled }}
- name: QUARKUS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "fenced.redis.secretName" . }}
      key: {{ include "fenced.redis.secretKey" . }}
{{- end }}
- name: FENCED_POLICY_SOURCE
  value: kubernetes
- name: FENCED_POLICY_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{/* Probes of a Quarkus component on port 8080 */}}
{{- define "fenced.quarkusProbes" -}}
startupProbe:
  httpGet: { path: /q/health/live, port: http }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /q/health/live, port: http }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /q/health/ready, port: http }
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* A duration such as 500ms, 10s, 2m or 1h in milliseconds (the schema has checked its form) */}}
{{- define "fenced.durationMillis" -}}
{{- $m := regexFind "^[0-9]+" . | int64 -}}
{{- $unit := regexFind "(ms|s|m|h)$" . -}}
{{- if eq $unit "ms" -}}{{ $m }}{{- else if eq $unit "s" -}}{{ mul $m 1000 }}{{- else if eq $unit "m" -}}{{ mul $m 60000 }}{{- else -}}{{ mul $m 3600000 }}{{- end -}}
{{- end -}}

{{- define "fenced.operatorRules" }}
rules:
  - apiGroups: ["locks.fenced.dev"]
    resources: ["lockpolicies"]
    verbs: ["get", "list", "watch", "patch", "update"]
  - apiGroups: ["locks.fenced.dev"]
    resources: ["lockpolicies/status"]
    verbs: ["patch", "update"]
  - apiGroups: ["locks.fenced.dev"]
    resources: ["lockpolicies/finalizers"]
    verbs: ["update"]
  {{- /* The same Secrets, by name, as the services may read (fenced.secretNames). */}}
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: {{ include "fenced.secretNames" . }}
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
  {{- /* KubernetesLease: list checks the namespace, watch sees a lock Lease deleted; the ledger
    Lease fenced-ledger is created, read and updated. */}}
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["list", "watch", "create"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    resourceNames: ["fenced-ledger"]
    verbs: ["get", "update"]
{{- end }}

{{/*
The Secrets LockPolicies may reference, as a JSON list: the chart's backend Secrets and
rbac.extraSecretNames. The operator and the services get read access to exactly these, by name.
*/}}
{{- define "fenced.secretNames" -}}
{{- $secrets := list (include "fenced.postgresql.secretName" .) -}}
{{- if and (include "fenced.redis.url" .) .Values.redis.auth.enabled -}}
{{- $secrets = append $secrets (include "fenced.redis.secretName" .) -}}
{{- end -}}
{{- concat $secrets .Values.rbac.extraSecretNames | uniq | toJson -}}
{{- end -}}

{{/* True (non-empty) when the monitoring.coreos.com/v1 API is served or the value forces it: (dict "ctx" $ "v" .Values.monitoring.serviceMonitor "kind" "ServiceMonitor") */}}
{{- define "fenced.monitoringApi" -}}
{{- if and .v.enabled (or .v.force (.ctx.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind))) -}}true{{- end -}}
{{- end -}}

{{/* The default LockPolicies, one YAML document each. */}}
{{- define "fenced.lockPolicies" -}}
{{- range $i, $p := .Values.locks.policies }}
{{- $backend := $p.backend | default $.Values.locks.backend }}
{{- if $i }}
---
{{- end }}
apiVersion: locks.fenced.dev/v1alpha1
kind: LockPolicy
metadata:
  name: {{ $p.name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" $ "component" "lockpolicy") | nindent 4 }}
spec:
  lockNames: {{ $p.lockNames | toJson }}
  backend:
    type: {{ $backend }}
    {{- if eq $backend "Redis" }}
    redis:
      url: {{ include "fenced.redis.url" $ | quote }}
      {{- if $.Values.redis.auth.enabled }}
      passwordSecretRef:
        name: {{ include "fenced.redis.secretName" $ }}
        key: {{ include "fenced.redis.secretKey" $ }}
      {{- end }}
    {{- else if eq $backend "Postgres" }}
    postgres:
      host: {{ include "fenced.postgresql.host" $ | quote }}
      port: {{ include "fenced.postgresql.port" $ }}
      database: {{ $.Values.postgresql.database | quote }}
      mode: {{ $p.postgresMode | default $.Values.locks.postgresMode }}
      credentialsSecretRef:
        name: {{ include "fenced.postgresql.secretName" $ }}
    {{- else if eq $backend "Etcd" }}
    etcd:
      endpoints: {{ include "fenced.etcd.endpoints" $ }}
      keyPrefix: {{ $.Values.etcd.keyPrefix | quote }}
    {{- else if eq $backend "ZooKeeper" }}
    zookeeper:
      connectString: {{ $.Values.zookeeper.connectString | quote }}
      basePath: {{ $.Values.zookeeper.basePath | quote }}
    {{- else if eq $backend "KubernetesLease" }}
    kubernetesLease:
      namespace: {{ include "fenced.leaseNamespace" $ }}
    {{- end }}
  {{- if ne $backend "None" }}
  leaseDuration: {{ $.Values.locks.leaseDuration }}
  renewInterval: {{ $.Values.locks.renewInterval }}
  maxWait: {{ $.Values.locks.maxWait }}
  fencing: {{ $.Values.locks.fencing }}
  {{- else }}
  # None issues no fencing tokens.
  fencing: Optional
  {{- end }}
{{- end }}
{{- end -}}

{{/* One kubectl container of a policy Job: (dict "ctx" $ "container" name "job" "apply"|"delete" "args" list) */}}
{{- define "fenced.policyJobContainer" -}}
{{- $v := .ctx.Values.policyJobs -}}
- name: {{ .container }}
  image: {{ include "fenced.thirdPartyImage" $v.image | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args: {{ toJson .args }}
  env:
    # kubectl keeps its discovery cache under $HOME; the root filesystem is read-only.
    - name: HOME
      value: /tmp
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- include "fenced.containerSecurityContext" .ctx | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- if eq .job "apply" }}
    - name: policies
      mountPath: /policies
      readOnly: true
    {{- end }}
{{- end -}}

{{/*
A hook Job running kubectl: (dict "ctx" $ "sa" "..." "name" "apply" "hook" "post-install" "args" (list ...)),
and with "initArgs" (list ...) a kubectl init container that runs first.
The "apply" Job mounts the ConfigMap of the default LockPolicies at /policies.
*/}}
{{- define "fenced.policyJob" -}}
{{- $ctx := .ctx -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "fenced.fullname" $ctx }}-policies-{{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" $ctx "component" "policy-jobs") | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  # Retried: right after an install the new CRD may not be served yet.
  backoffLimit: 6
  template:
    metadata:
      labels:
        {{- include "fenced.labels" (dict "ctx" $ctx "component" "policy-jobs") | nindent 8 }}
    spec:
      serviceAccountName: {{ .sa }}
      restartPolicy: Never
      securityContext:
        {{- include "fenced.podSecurityContext" (dict "user" $ctx.Values.podSecurityContext.runAsUser "group" $ctx.Values.podSecurityContext.runAsGroup "fsGroup" $ctx.Values.podSecurityContext.fsGroup) | nindent 8 }}
      {{- if .initArgs }}
      initContainers:
        {{- include "fenced.policyJobContainer" (dict "ctx" $ctx "container" "by-label" "job" .name "args" .initArgs) | nindent 8 }}
      {{- end }}
      containers:
        {{- include "fenced.policyJobContainer" (dict "ctx" $ctx "container" "kubectl" "job" .name "args" .args) | nindent 8 }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- if eq .name "apply" }}
        - name: policies
          configMap:
            name: {{ include "fenced.fullname" $ctx }}-lockpolicies
        {{- end }}
{{- end -}}
