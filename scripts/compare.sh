#!/usr/bin/env bash
# The measured comparison: the same cats-vs-dogs load through nginx once per lock policy, each on
# a fresh poll and freshly started services, then one table: votes/s, p50/p99 latency (Gatling),
# votes acknowledged (201), counted (live counters), lost (ballots - counted), PASS/FAIL of the
# invariant 201 answers = ballots = sum of counts = sum of tally = tallied.
#
#   scripts/compare.sh [--voters 1500] [--concurrency 32] [--retry-share 0.1] [--only redis,etcd,...]
#
# Order: None first (no lock: the race loses votes), InProcess on a single vote-api replica (correct,
# cannot scale out), then every distributed backend on 3 vote-api and 2 tally-worker replicas.
# KubernetesLease needs an API server and is skipped here. Output of each run: $FENCED_HOME/compare/.
# Exit code 0 when None showed lost votes and every locking policy passed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=compare
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

VOTERS=1500
CONCURRENCY=32
SHARE=0.1
ONLY=""
while (($#)); do
  case "$1" in
    --voters) VOTERS=${2:?}; shift 2 ;;
    --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
    --retry-share) SHARE=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done
[[ "$VOTERS" =~ ^[1-9][0-9]*$ ]] || fail "--voters must be a positive number, was $VOTERS"
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || fail "--concurrency must be a positive number, was $CONCURRENCY"

OUT="$FENCED_HOME/compare/$(date +%Y%m%d-%H%M%S)"
ROWS="$OUT/rows.tsv"
mkdir -p "$OUT"

# Backends this script started are stopped at the end; ones already running are left running.
started_backends=()
for b in redis postgres etcd zookeeper; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started_backends+=("$b")
done
cleanup() {
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  if ((${#started_backends[@]})); then
    "$ROOT/scripts/backends.sh" down "${started_backends[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

t0=$SECONDS
build_all
"$ROOT/scripts/backends.sh" up >/dev/null 2>&1 || fail "backends did not start; run scripts/backends.sh up"
eval "$("$ROOT/scripts/backends.sh" env)"
mapfile -t POLICIES < <("$ROOT/scripts/policies.sh" "$OUT/policies")

# label, policy file, vote-api replicas, tally-worker replicas
runs=()
for f in "${POLICIES[@]}"; do
  key=$(basename "$f" .yaml)
  [[ -z "$ONLY" || ",$ONLY," == *",$key,"* ]] || continue
  case "$key" in
    none) runs+=("None|$f|3|2") ;;
    inprocess) runs+=("InProcess|$f|1|1") ;;
    redis) runs+=("Redis|$f|3|2") ;;
    postgres-locktable) runs+=("Postgres-LockTable|$f|3|2") ;;
    postgres-rowlock) runs+=("Postgres-RowLock|$f|3|2") ;;
    postgres-advisory) runs+=("Postgres-Advisory|$f|3|2") ;;
    etcd) runs+=("Etcd|$f|3|2") ;;
    zookeeper) runs+=("ZooKeeper|$f|3|2") ;;
  esac
done
((${#runs[@]})) || fail "--only $ONLY matches no policy"

say "$VOTERS voters, $CONCURRENCY at a time, ${SHARE} vote twice; ${#runs[@]} policies; output in $OUT"
say "KubernetesLease: skipped (it needs a Kubernetes API server; none can run on this machine, see docs/design.md §8)"
stamp=$(date +%H%M%S)
n=0
for run in "${runs[@]}"; do
  IFS='|' read -r label file votes tallies <<<"$run"
  n=$((n + 1))
  dir="$OUT/$n-$label"
  poll="cmp-$stamp-$(tr '[:upper:]' '[:lower:]' <<<"$label")"
  mkdir -p "$dir"
  say "[$n/${#runs[@]}] $label: starting $votes vote-api + $tallies tally-worker"
  "$ROOT/scripts/local-run.sh" down >"$dir/local-run.log" 2>&1
  rm -f "$FENCED_HOME/run/logs/"*.log # each run keeps its own copy of the service logs
  if ! "$ROOT/scripts/local-run.sh" up "$file" --vote-replicas "$votes" --tally-replicas "$tallies" >>"$dir/local-run.log" 2>&1; then
    tail -n 5 "$dir/local-run.log" >&2
    printf '%s\t-\t-\t-\t-\t-\t-\tFAIL(start)\n' "$label" >>"$ROWS"
    continue
  fi
  say "[$n/${#runs[@]}] $label: $VOTERS voters on poll $poll"
  if ! run_gatling "$dir" "$poll" "$VOTERS" "$CONCURRENCY" "$SHARE"; then
    say "[$n/${#runs[@]}] $label: the load run failed; see $dir/gatling.log"
    grep -E 'Exception|error' "$dir/gatling.log" | head -n 3 >&2 || true
    printf '%s\t-\t-\t-\t-\t-\t-\tFAIL(load)\n' "$label" >>"$ROWS"
    continue
  fi
  say "[$n/${#runs[@]}] $label: checking the invariant"
  # Without a lock the tally owners are not exclusive either, so its tally may never settle: the
  # None run shows the lost counts and does not wait long for the tally.
  wait_s=60
  [[ $label == None ]] && wait_s=15
  run_checker "$dir" "$label" --wait-seconds "$wait_s" --row "$ROWS" 2>&1 | tee "$dir/check.log" | sed 's/^/    /' >&2 || true
  cp -r "$FENCED_HOME/run/logs" "$dir/service-logs" 2>/dev/null || true
  say "[$n/${#runs[@]}] done after $((SECONDS - t0)) s"
done
"$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true

echo
echo "cats vs dogs: $VOTERS voters, $CONCURRENCY concurrent, through nginx ($(nproc) cores); latency of first votes (Gatling)"
{
  printf 'policy\tvotes/s\tp50 ms\tp99 ms\tacknowledged\tcounted\tlost\tinvariant\n'
  cat "$ROWS"
  printf 'KubernetesLease\t-\t-\t-\t-\t-\t-\tskipped: needs an API server\n'
} | column -t -s $'\t'
echo
echo "runs, reports and service logs: $OUT"

status=0
while IFS=$'\t' read -r label _ _ _ _ _ lost verdict; do
  if [[ $label == None ]]; then
    if ! [[ "$lost" =~ ^[1-9] ]]; then
      echo "None lost no vote this time, so the race was not shown; raise --concurrency"
      status=1
    fi
  elif [[ $verdict != PASS ]]; then
    status=1
  fi
done <"$ROWS"
exit $status
