{{/* The text of NOTES.txt, a named template so that the checks can render it without a cluster. */}}
{{- define "fenced.notes" -}}
fenced {{ .Chart.AppVersion }} is installed as release {{ .Release.Name }} in namespace {{ .Release.Namespace }}.

{{- $fullname := include "fenced.fullname" . }}
{{- $used := include "fenced.usedBackends" . | fromJsonArray }}

Lock backend of the default policies: {{ join ", " $used | default "none (locks.createPolicies=false)" }}
  kubectl -n {{ .Release.Namespace }} get lockpolicies        # Backend, Ready, Epoch

Vote through the ingress{{ if .Values.ingress.enabled }} (class {{ .Values.ingress.className }}){{ end }}:
{{- if .Values.ingress.enabled }}
  # The load balancer publishes an ip or a hostname: whichever it has.
  ADDR=$(kubectl -n {{ .Release.Namespace }} get ingress {{ $fullname }}-vote-api -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')
  PAGE={{ if .Values.ingress.tlsSecretName }}https{{ else }}http{{ end }}://{{ .Values.ingress.host | default "$ADDR" }}/
  BASE=${PAGE}api
  echo "open $PAGE in a browser"
  {{- with .Values.ingress.extraHosts }}
  # also served on: {{ join ", " . }}
  {{- end }}
{{- else }}
  (ingress.enabled=false: forward the Service instead)
  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }}-vote-api 8080:{{ .Values.voteApi.service.port }} &
  PAGE=http://127.0.0.1:8080/
  BASE=${PAGE}api
{{- end }}

  curl -sS -X POST "$BASE/polls" -H 'Content-Type: application/json' \
       -d '{"id":"cats-vs-dogs","title":"Cats or dogs?","options":["cat","dog"]}'      # 201 (200 if it exists)
  curl -sS -X POST "$BASE/polls/cats-vs-dogs/votes" -H 'Content-Type: application/json' \
       -d '{"voter":"v-123","option":"cat"}'                                              # 201 {poll,option,voter,count,fence}
  curl -sS "$BASE/polls/cats-vs-dogs/results"                                             # counts, ballots, tally, tallied

A 503 with Retry-After means the lock could not be had in time and nothing was recorded: retry.
The ingress never replays a POST on another replica after an upstream error.

Move a lock family to another backend by applying a LockPolicy of the same name{{ with .Values.locks.policies }} ({{ range $i, $p := . }}{{ if $i }}, {{ end }}{{ $p.name }}{{ end }}){{ end }}:
a second policy with the same lock-name pattern is a tie that neither policy wins. Secrets are
referenced (passwordSecretRef, credentialsSecretRef), never inlined. Examples, one per backend,
each a vote-counters and a tally-owners policy: k8s/examples/ in the project's repository (written
for release fenced in namespace voting; elsewhere change the Service and Secret names). The epoch
rises with every move; a helm upgrade puts the chart's own policies back.
  kubectl -n {{ .Release.Namespace }} apply -f lockpolicy.yaml
  kubectl -n {{ .Release.Namespace }} get lp -w

Check the installation end to end (creates a poll, votes through the vote-api Service, checks the counts):
  helm test {{ .Release.Name }} -n {{ .Release.Namespace }}
{{- end -}}
