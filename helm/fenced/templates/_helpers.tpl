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

{{/* Image of a project component: (dict "ctx" $ "image" .Values.voteApi.image) */}}
{{- define "fenced.image" -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion -}}
{{- if .ctx.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .ctx.Values.image.registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Image of a third-party component (registry/repository/tag in one map) */}}
{{- define "fenced.thirdPartyImage" -}}
{{- if .registry -}}
{{- printf "%s/%s:%s" .registry .repository .tag -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
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
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    {{- /* list: the KubernetesLease namespace check; get/create/update: the ledger Lease
      fenced-ledger; watch: recording a deleted lock Lease in it. */}}
    verbs: ["get", "list", "watch", "create", "update"]
{{- end }}
