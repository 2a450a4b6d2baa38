#!/usr/bin/env bash
# The chart's dashboard and alerts against a real Prometheus: a local run (scripts/local-run.sh,
# 3 vote-api and 2 tally-worker replicas behind nginx) under a little load, scraped by Prometheus
# (Debian's prometheus, a plain process on a port of its own, data under $FENCED_HOME), then every
# query of helm/fenced/monitoring/dashboard.json evaluated through Prometheus's HTTP API. Fails
# naming each panel whose query returned no data, and says which series no target exports.
#
#   scripts/monitoring-check.sh [--skip-build] [--keep]
#
# The load: votes through nginx with curl on the Redis example policy, its vote-counters locks
# lasting 1s; then a burst while those locks may wait only 5ms (some acquires fail, some votes
# answer 503); then vote-api replicas paused with SIGSTOP for longer than the lease, mid-load,
# until a stale holder's write is refused by the fence (a bounded number of tries). The rules of alerts.yaml are loaded too and must be
# healthy. The operator's panels are fed by the packaged lock-operator running against Fabric8's
# mock API server in CRUD mode (lock-operator's LocalApiServer, a process of its own; there is no
# cluster here), with two LockPolicies applied through that API: one on the local Redis that
# becomes Ready, one on a Redis that is not there.
# --keep leaves Prometheus and the services running for a look at http://127.0.0.1:$PORT.
#
# Environment: FENCED_PROMETHEUS_PORT [18200], FENCED_API_SERVER_PORT [18210],
# FENCED_OPERATOR_PORT [18220], FENCED_VOTES [600], FENCED_CONCURRENCY [24], and the FENCED_* ports
# of scripts/local-run.sh and scripts/backends.sh.
# Output: $FENCED_HOME/monitoring/<time>/ (panels.tsv, prometheus.yml, logs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=monitoring-check
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

PROM_PORT="${FENCED_PROMETHEUS_PORT:-18200}"
API_PORT="${FENCED_API_SERVER_PORT:-18210}"
OPERATOR_PORT="${FENCED_OPERATOR_PORT:-18220}"
OPERATOR_JAR="$ROOT/lock-operator/target/quarkus-app/quarkus-run.jar"
OPERATOR_CP_FILE="$ROOT/lock-operator/target/test.classpath"
VOTES="${FENCED_VOTES:-600}"
CONCURRENCY="${FENCED_CONCURRENCY:-24}"
VOTE_BASE_PORT="${FENCED_VOTE_BASE_PORT:-18110}"
TALLY_BASE_PORT="${FENCED_TALLY_BASE_PORT:-18130}"
MON="$ROOT/helm/fenced/monitoring"
SCRAPE=2s
WINDOW=1m

SKIP_BUILD=0
KEEP=0
while (($#)); do
  case "$1" in
    --skip-build) SKIP_BUILD=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,/^set -euo pipefail/{/^set /d;p;}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done

OUT="$FENCED_HOME/monitoring/$(date +%Y%m%d-%H%M%S)"
PROM_DATA="$FENCED_HOME/monitoring/prometheus-data"
mkdir -p "$OUT"

for tool in prometheus promtool jq curl; do
  command -v "$tool" >/dev/null && continue
  [[ $(id -u) == 0 ]] || fail "$tool is missing (Debian packages prometheus, jq, curl)"
  say "installing prometheus jq curl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus jq curl >/dev/null
  break
done

started_backends=()
for b in redis postgres etcd zookeeper; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started_backends+=("$b")
done
prom_pid=""
api_pid=""
operator_pid=""
load_pids=()
cleanup() {
  local pid
  for pid in "${load_pids[@]+"${load_pids[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  # A replica paused by the fence step must not stay stopped.
  for pid in $(cat "$FENCED_HOME"/run/pids/vote-api-*.pid 2>/dev/null); do kill -CONT "$pid" 2>/dev/null || true; done
  ((KEEP)) && { say "left running: Prometheus on http://127.0.0.1:$PROM_PORT (pid $prom_pid), the local run"; return; }
  [[ -n "$prom_pid" ]] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null || true
  [[ -n "$operator_pid" ]] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null || true
  [[ -n "$api_pid" ]] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  if ((${#started_backends[@]})); then
    "$ROOT/scripts/backends.sh" down "${started_backends[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if ! ((SKIP_BUILD)); then
  say "building vote-api, tally-worker and lock-operator (mvn package -DskipTests)"
  (cd "$ROOT" && mvn -B -q -ntp -DskipTests package -pl vote-api,tally-worker,lock-operator -am) >"$OUT/build.log" 2>&1 ||
    fail "the build failed; see $OUT/build.log"
fi
if ! ((SKIP_BUILD)) || [[ ! -f "$OPERATOR_CP_FILE" ]]; then
  # LocalApiServer lives in lock-operator's test classes, beside the mock server it starts.
  (cd "$ROOT" && mvn -B -q -ntp -pl lock-operator -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile="$OPERATOR_CP_FILE" -Dmdep.includeScope=test) >>"$OUT/build.log" 2>&1 ||
    fail "building lock-operator's test classpath failed; see $OUT/build.log"
fi
[[ -f "$OPERATOR_JAR" ]] || fail "no operator jar at $OPERATOR_JAR (run without --skip-build)"
"$ROOT/scripts/backends.sh" up >"$OUT/backends.log" 2>&1 || fail "backends did not start; see $OUT/backends.log"
eval "$("$ROOT/scripts/backends.sh" env)"

# --- the policies: the Redis example for the local servers, vote-counters' leases short ----------
"$ROOT/scripts/policies.sh" "$OUT/policies" >/dev/null
# policy <file> <maxWait of vote-counters>
policy() {
  awk -v wait="$2" '
    /^  name: / { name = $2 }
    name == "vote-counters" && /^  leaseDuration:/ { print "  leaseDuration: 1s"; next }
    name == "vote-counters" && /^  renewInterval:/ { print "  renewInterval: 300ms"; next }
    name == "vote-counters" && /^  maxWait:/ { print "  maxWait: " wait; next }
    { print }
  ' "$OUT/policies/redis.yaml" >"$1"
  grep -q "maxWait: $2" "$1" || fail "the Redis example changed shape; see $1"
}
POLICY="$OUT/policy.yaml"
TIGHT="$OUT/policy-5ms.yaml"
policy "$POLICY" 2s
policy "$TIGHT" 5ms

say "starting 3 vote-api + 2 tally-worker behind nginx"
# Five JVMs start at once and each opens its first database connection during start-up (Flyway):
# on a busy machine that can take longer than the pool's default 5s.
export QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT="${QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT:-60S}"
"$ROOT/scripts/local-run.sh" down >"$OUT/local-run.log" 2>&1
"$ROOT/scripts/local-run.sh" up "$POLICY" --vote-replicas 3 --tally-replicas 2 >>"$OUT/local-run.log" 2>&1 ||
  { tail -n 20 "$OUT/local-run.log" >&2; fail "the services did not start"; }

# --- the operator, against a mock API server --------------------------------------------------
for port in "$API_PORT" "$OPERATOR_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is taken (set FENCED_API_SERVER_PORT / FENCED_OPERATOR_PORT)"
  fi
done
API="http://127.0.0.1:$API_PORT"
say "starting the mock API server (CRUD) on 127.0.0.1:$API_PORT and lock-operator on :$OPERATOR_PORT"
(cd "$ROOT" && exec java -cp "$ROOT/lock-operator/target/test-classes:$(cat "$OPERATOR_CP_FILE")" \
  dev.fenced.operator.LocalApiServer "$API_PORT") >"$OUT/api-server.log" 2>&1 &
api_pid=$!
for ((i = 0; i < 100; i++)); do
  curl -fsS -m 1 -o /dev/null "$API/api/v1/namespaces" 2>/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$OUT/api-server.log" >&2; fail "the mock API server exited"; }
  sleep 0.2
done
# The operator finds the API server as kubectl would: a kubeconfig, namespace voting.
cat >"$OUT/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: "$API" } }]
users: [{ name: local, user: { token: local } }]
contexts: [{ name: local, context: { cluster: local, user: local, namespace: voting } }]
current-context: local
EOF
KUBECONFIG="$OUT/kubeconfig" QUARKUS_HTTP_PORT="$OPERATOR_PORT" \
  QUARKUS_OPERATOR_SDK_LEADER_ELECTION_ENABLED=true HOSTNAME=local-operator \
  FENCED_OPERATOR_RECHECK_INTERVAL=5s FENCED_OPERATOR_BACKEND_TIMEOUT=2s FENCED_OPERATOR_BACKOFF_MAX=5s \
  java -jar "$OPERATOR_JAR" >"$OUT/operator.log" 2>&1 &
operator_pid=$!
# apply_policy <name> <redis url>: POST of a LockPolicy to the mock API server, as kubectl apply would.
apply_policy() {
  curl -fsS -m 5 -o /dev/null -X POST "$API/apis/locks.fenced.dev/v1alpha1/namespaces/voting/lockpolicies" \
    -H 'Content-Type: application/json' -d "{\"apiVersion\":\"locks.fenced.dev/v1alpha1\",\"kind\":\"LockPolicy\",
    \"metadata\":{\"name\":\"$1\",\"namespace\":\"voting\"},
    \"spec\":{\"lockNames\":[\"$1:*\"],\"backend\":{\"type\":\"Redis\",\"redis\":{\"url\":\"$2\"}},
    \"leaseDuration\":\"10s\",\"renewInterval\":\"3s\",\"maxWait\":\"2s\",\"fencing\":\"Required\"}}" ||
    fail "the mock API server refused LockPolicy $1"
}
apply_policy probe-ready "redis://127.0.0.1:${FENCED_REDIS_PORT:-16379}"
apply_policy probe-unreachable "redis://127.0.0.1:1"
ready=""
for ((i = 0; i < 120; i++)); do
  kill -0 "$operator_pid" 2>/dev/null || { tail -n 30 "$OUT/operator.log" >&2; fail "lock-operator exited"; }
  ready=$(curl -fsS -m 2 "$API/apis/locks.fenced.dev/v1alpha1/namespaces/voting/lockpolicies/probe-ready" 2>/dev/null |
    jq -r '.status.conditions[]? | select(.type == "Ready") | .status' 2>/dev/null || true)
  [[ "$ready" == True ]] && break
  sleep 0.5
done
[[ "$ready" == True ]] || { tail -n 30 "$OUT/operator.log" >&2; fail "LockPolicy probe-ready never became Ready; see $OUT/operator.log"; }
say "lock-operator reconciled: probe-ready Ready, probe-unreachable $(curl -fsS -m 2 "$API/apis/locks.fenced.dev/v1alpha1/namespaces/voting/lockpolicies/probe-unreachable" |
  jq -r '[.status.conditions[]? | select(.type == "Ready") | .status, .reason] | join(" ")')"

# --- Prometheus --------------------------------------------------------------------------------
targets() {
  local base=$1 n=$2 i out=""
  for ((i = 1; i <= n; i++)); do out+="${out:+, }'127.0.0.1:$((base + i))'"; done
  echo "[$out]"
}
cp "$MON/alerts.yaml" "$OUT/alerts.yaml"
cat >"$OUT/prometheus.yml" <<EOF
# Written by scripts/monitoring-check.sh: the local run as the chart's ServiceMonitor sees it.
global:
  scrape_interval: $SCRAPE
  evaluation_interval: $SCRAPE
rule_files: [alerts.yaml]
scrape_configs:
  - job_name: vote-api
    metrics_path: /q/metrics
    static_configs: [{ targets: $(targets "$VOTE_BASE_PORT" 3), labels: { namespace: voting } }]
  - job_name: tally-worker
    metrics_path: /q/metrics
    static_configs: [{ targets: $(targets "$TALLY_BASE_PORT" 2), labels: { namespace: voting } }]
  - job_name: lock-operator
    metrics_path: /q/metrics
    honor_labels: true
    static_configs: [{ targets: ['127.0.0.1:$OPERATOR_PORT'], labels: { namespace: voting } }]
EOF
promtool check config "$OUT/prometheus.yml" >"$OUT/promtool-config.log" 2>&1 ||
  { cat "$OUT/promtool-config.log" >&2; fail "promtool refused $OUT/prometheus.yml"; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PROM_PORT") 2>/dev/null; then
  fail "port $PROM_PORT is taken (set FENCED_PROMETHEUS_PORT)"
fi
rm -rf "$PROM_DATA"
mkdir -p "$PROM_DATA"
say "starting Prometheus on 127.0.0.1:$PROM_PORT"
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$PROM_DATA" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$OUT/prometheus.log" 2>&1 &
prom_pid=$!
PROM="http://127.0.0.1:$PROM_PORT"
for ((i = 0; i < 100; i++)); do
  curl -fsS -m 1 "$PROM/-/ready" >/dev/null 2>&1 && break
  kill -0 "$prom_pid" 2>/dev/null || { cat "$OUT/prometheus.log" >&2; fail "Prometheus exited"; }
  sleep 0.2
done
curl -fsS -m 1 "$PROM/-/ready" >/dev/null || fail "Prometheus is not ready; see $OUT/prometheus.log"

# query <promql> [time] -> the JSON result array
query() {
  curl -fsS -m 10 --get "$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
    jq -c '.data.result'
}
for ((i = 0; i < 60; i++)); do
  up=$(query 'sum(up)' | jq -r '.[0].value[1] // 0')
  [[ "$up" == 6 ]] && break
  sleep 0.5
done
[[ "$up" == 6 ]] || fail "Prometheus scrapes $up of 6 targets; see $PROM/targets"
say "Prometheus scrapes all 6 targets"

# --- load --------------------------------------------------------------------------------------
INGRESS="http://127.0.0.1:${FENCED_INGRESS_PORT:-18100}"
POLL="monitoring-$(date +%H%M%S)"
curl -fsS -m 5 -o /dev/null -X POST "$INGRESS/api/polls" -H 'Content-Type: application/json' \
  -d "{\"id\":\"$POLL\",\"title\":\"Cats or dogs?\",\"options\":[\"cat\",\"dog\"]}" || fail "cannot create poll $POLL"
# vote <first> <count>: votes from voters first..first+count-1, CONCURRENCY at a time; prints one
# status code per vote (000: no answer within 10s).
vote() {
  seq "$1" $(($1 + $2 - 1)) | xargs -P "$CONCURRENCY" -I{} sh -c '
    o=cat; [ $(({} % 3)) = 0 ] && o=dog
    curl -s -m 10 -o /dev/null -w "%{http_code}\n" -X POST "$0/api/polls/$1/votes" \
      -H "Content-Type: application/json" -d "{\"voter\":\"v-{}\",\"option\":\"$o\"}" || true' "$INGRESS" "$POLL" || true
}
# use_policy <file>: the running services follow the new file live (same backend, no new epoch).
use_policy() {
  "$ROOT/scripts/local-run.sh" up "$1" --vote-replicas 3 --tally-replicas 2 >>"$OUT/local-run.log" 2>&1 ||
    fail "switching to $1 failed; see $OUT/local-run.log"
  sleep 3
}
statuses() { sort "$1" | uniq -c | awk '{ printf "%s x %s  ", $2, $1 } END { print "" }'; }
say "load: $VOTES votes, $CONCURRENCY at a time"
vote 0 "$VOTES" >"$OUT/statuses.txt"
say "  answers: $(statuses "$OUT/statuses.txt")"
say "burst: 200 votes while vote locks may wait 5ms"
use_policy "$TIGHT"
vote "$VOTES" 200 >"$OUT/statuses-5ms.txt"
say "  answers: $(statuses "$OUT/statuses-5ms.txt")"
use_policy "$POLICY"

# A fence rejection needs a holder that outlives its lease and then writes: pause a replica with
# SIGSTOP while it may hold a vote lock, longer than the 1s lease, under load, then resume it.
rejections() { query 'sum(fenced_fence_rejections_total)' | jq -r '.[0].value[1] // 0'; }
first=$((VOTES + 200))
for ((try = 1; try <= 6; try++)); do
  victim="vote-api-$(((try - 1) % 3 + 1))"
  vote "$first" 150 >>"$OUT/statuses-fence.txt" &
  load_pids=($!)
  sleep 0.5
  pid=$(head -n 1 "$FENCED_HOME/run/pids/$victim.pid")
  kill -STOP "$pid"
  sleep 2.5
  kill -CONT "$pid"
  wait "${load_pids[0]}" || true
  load_pids=()
  first=$((first + 150))
  sleep 4 # two scrapes
  n=$(rejections)
  say "fence step $try: paused $victim for 2.5s; fence rejections so far: $n"
  [[ "$n" != 0 ]] && break
done
sleep 4
END=$(date +%s)

# --- every panel's query -----------------------------------------------------------------------
say "evaluating every dashboard query at the end of the load (\$namespace=voting, \$__rate_interval=$WINDOW)"
printf 'panel\tref\tresult\tseries\tquery\n' >"$OUT/panels.tsv"
passed=0
failed=0
absent_all=()
while IFS=$'\t' read -r title ref expr; do
  q=${expr//\$namespace/voting}
  q=${q//\$__rate_interval/$WINDOW}
  result=$(query "$q" "$END") || result='"query failed"'
  n=$(jq 'if type == "array" then length else 0 end' <<<"$result")
  # the metric names of the query, and those no target exports
  absent=()
  for name in $(grep -oE '\b(fenced|tally|http_server)_[a-z_]+' <<<"$q" | sort -u); do
    [[ $(query "count({__name__=\"$name\"})" "$END" | jq length) == 0 ]] && absent+=("$name")
  done
  if ((n > 0)); then
    status=data
    passed=$((passed + 1))
  else
    status="NO DATA"
    failed=$((failed + 1))
    absent_all+=("${absent[@]+"${absent[@]}"}")
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$title" "$ref" "$status" "$n${absent[*]:+ (not exported: ${absent[*]})}" "$q" >>"$OUT/panels.tsv"
done < <(jq -r '.panels[] | select(.type != "row") | .title as $t | .targets[] | [$t, .refId, .expr] | @tsv' "$MON/dashboard.json")
column -t -s $'\t' <(cut -f1-4 "$OUT/panels.tsv") | sed 's/^/  /'

# --- the alerts, loaded by the real Prometheus ---------------------------------------------------
rules=$(curl -fsS -m 10 "$PROM/api/v1/rules" | jq -r '.data.groups[].rules[] | "\(.name)\t\(.health)\t\(.state)"')
echo "$rules" | column -t -s $'\t' | sed 's/^/  alert /'
bad_rules=$(awk -F'\t' '$2 != "ok"' <<<"$rules" | wc -l)
if [[ $(wc -l <<<"$rules") -lt 6 || $bad_rules -gt 0 ]]; then
  say "the alert rules are not all loaded and healthy"
  failed=$((failed + 1))
fi

if ((${#absent_all[@]})); then
  say "series no target exports (their panels stay empty until the services export them): $(printf '%s\n' "${absent_all[@]}" | sort -u | tr '\n' ' ')"
fi
say "output in $OUT"
echo "monitoring-check: $passed passed, $failed failed"
((failed == 0))
