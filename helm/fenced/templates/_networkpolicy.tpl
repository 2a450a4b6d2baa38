{{/* NetworkPolicy pieces */}}
{{- define "fenced.np.pod" -}}
podSelector:
  matchLabels:
    {{- include "fenced.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
{{- end }}

{{- define "fenced.np.dns" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - { protocol: UDP, port: 53 }
    - { protocol: TCP, port: 53 }
{{- end }}

{{- define "fenced.np.apiServer" -}}
- to:
    {{- range .Values.networkPolicy.apiServerCIDRs }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
  ports:
    {{- range .Values.networkPolicy.apiServerPorts }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end }}

{{/* Scraping is let in when asked for, or when the chart renders a ServiceMonitor. */}}
{{- define "fenced.np.metricsOpen" -}}
{{- if or .Values.networkPolicy.metrics.enabled (include "fenced.monitoringApi" (dict "ctx" . "v" .Values.monitoring.serviceMonitor "kind" "ServiceMonitor")) -}}true{{- end -}}
{{- end }}

{{- define "fenced.np.metrics" -}}
{{- if include "fenced.np.metricsOpen" . }}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.metrics.namespaceSelector | nindent 10 }}
      {{- with .Values.networkPolicy.metrics.podSelector }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
  ports:
    - { protocol: TCP, port: 8080 }
{{- end }}
{{- end }}

{{/* Egress of a backend client: the in-chart backends by label, the external ones by port. */}}
{{- define "fenced.np.backendEgress" -}}
{{- $ctx := . -}}
{{- $v := .Values -}}
{{- if $v.postgresql.enabled }}
- to:
    - {{ include "fenced.np.pod" (dict "ctx" $ctx "component" "postgresql") | nindent 6 | trim }}
  ports:
    - { protocol: TCP, port: 5432 }
{{- end }}
{{- if $v.redis.enabled }}
- to:
    - {{ include "fenced.np.pod" (dict "ctx" $ctx "component" "redis") | nindent 6 | trim }}
  ports:
    - { protocol: TCP, port: 6379 }
{{- end }}
{{- if $v.etcd.enabled }}
- to:
    - {{ include "fenced.np.pod" (dict "ctx" $ctx "component" "etcd") | nindent 6 | trim }}
  ports:
    - { protocol: TCP, port: 2379 }
{{- end }}
{{- $external := list }}
{{- if not $v.postgresql.enabled }}{{ $external = append $external ($v.postgresql.port | int) }}{{ end }}
{{- if and (not $v.redis.enabled) $v.redis.url }}
{{- $port := regexFind ":[0-9]+$" (regexReplaceAll "/[0-9]*$" $v.redis.url "") | trimPrefix ":" | default "6379" }}
{{- $external = append $external ($port | int) }}
{{- end }}
{{- if and (not $v.etcd.enabled) $v.etcd.endpoints }}
{{- range $v.etcd.endpoints }}
{{- $external = append $external ((regexFind ":[0-9]+$" (trimSuffix "/" .)) | trimPrefix ":" | default "2379" | int) }}
{{- end }}
{{- end }}
{{- if $v.zookeeper.connectString }}{{ $external = append $external ($v.zookeeper.port | int) }}{{ end }}
{{- with $external | uniq }}
- to:
    {{- range $v.networkPolicy.externalBackendCIDRs }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
  ports:
    {{- range . }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end }}
{{- end }}
