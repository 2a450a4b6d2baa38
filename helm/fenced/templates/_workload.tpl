{{/*
Deployment, HPA and PDB of a Quarkus service: (dict "ctx" $ "component" "vote-api" "v" .Values.voteApi "sa" "...")
*/}}
{{- define "fenced.serviceWorkload" -}}
{{- $ctx := .ctx -}}
{{- $v := .v -}}
{{- $name := printf "%s-%s" (include "fenced.fullname" $ctx) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "fenced.selectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
  template:
    metadata:
      {{- include "fenced.podMetadata" (dict "ctx" $ctx "component" .component "v" $v) | nindent 6 }}
    spec:
      serviceAccountName: {{ .sa }}
      {{- include "fenced.imagePullSecrets" $ctx | nindent 6 }}
      securityContext:
        {{- include "fenced.podSecurityContext" (dict "user" $ctx.Values.podSecurityContext.runAsUser "group" $ctx.Values.podSecurityContext.runAsGroup "fsGroup" $ctx.Values.podSecurityContext.fsGroup) | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "fenced.image" (dict "ctx" $ctx "image" $v.image) | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            {{- include "fenced.serviceEnv" $ctx | nindent 12 }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "fenced.quarkusProbes" $ctx | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "fenced.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            # Quarkus and Vert.x write caches and uploads under /tmp; the root stays read-only.
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
      {{- include "fenced.podScheduling" (dict "ctx" $ctx "component" .component "v" $v) | nindent 6 }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "fenced.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "fenced.selectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
{{- end }}
{{- end -}}
