#!/usr/bin/env bash
# End-to-end checks of the whole local system through nginx, under the Redis policy:
#   1. plain: a short load, then the invariant 201 answers = ballots = sum of counts = sum of tally
#      = tallied;
#   2. fault: a longer load during which one vote-api replica and one tally-worker are killed with
#      SIGKILL; every vote that got a 201 must be a ballot and counted, the tallies must catch up
#      (the surviving worker takes the poll over within a lease), and votes that got no definite
#      answer (cut off by the kill) are sent again for the same voter, which settles whether they
#      were recorded (409) or records them now (201), so the invariant can still be checked exactly.
#
#   scripts/e2e.sh [--skip-build]
#
# Bounded in time (each load has a time limit, the tally wait is bounded); exit code non-zero on any
# failure; stops everything it started (services, nginx, and the backends it had to start).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=e2e
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

SKIP_BUILD=0
[[ "${1:-}" == --skip-build ]] && SKIP_BUILD=1
OUT="$FENCED_HOME/e2e/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"

started_backends=()
for b in redis postgres etcd zookeeper; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started_backends+=("$b")
done
load_pid=""
cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  if ((${#started_backends[@]})); then
    "$ROOT/scripts/backends.sh" down "${started_backends[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

((SKIP_BUILD)) || build_all
"$ROOT/scripts/backends.sh" up >/dev/null 2>&1 || fail "backends did not start"
eval "$("$ROOT/scripts/backends.sh" env)"
"$ROOT/scripts/policies.sh" "$OUT/policies" >/dev/null
REDIS_POLICY="$OUT/policies/redis.yaml"
stamp=$(date +%H%M%S)
failures=0

say "starting 3 vote-api + 2 tally-worker under the Redis policy"
"$ROOT/scripts/local-run.sh" down >"$OUT/local-run.log" 2>&1
"$ROOT/scripts/local-run.sh" up "$REDIS_POLICY" --vote-replicas 3 --tally-replicas 2 >>"$OUT/local-run.log" 2>&1 ||
  { tail -n 20 "$OUT/local-run.log" >&2; fail "the services did not start"; }

# --- 1. plain run -------------------------------------------------------------------------------
say "plain: 500 voters, 16 at a time"
run_gatling "$OUT/plain" "e2e-$stamp-plain" 500 16 0.2 -DmaxSeconds=120 ||
  fail "the plain load failed; see $OUT/plain/gatling.log"
if run_checker "$OUT/plain" Redis --wait-seconds 60 | tee "$OUT/plain/check.log"; then
  say "plain: PASS"
else
  say "plain: FAIL"
  failures=$((failures + 1))
fi

# --- 2. fault run -------------------------------------------------------------------------------
say "fault: 3000 voters, 16 at a time, pacing 40 ms; SIGKILL of vote-api-2 and tally-worker-1 mid-load"
run_gatling "$OUT/fault" "e2e-$stamp-fault" 3000 16 0.1 -DthinkMillis=40 -DmaxSeconds=180 &
load_pid=$!
# Kill once the load is well under way: some hundreds of ballots in.
results="$INGRESS_URL/api/polls/e2e-$stamp-fault/results"
for ((i = 0; i < 120; i++)); do
  # 404 until the simulation has created the poll.
  ballots=$({ curl -fsS -m 2 "$results" 2>/dev/null || true; } | sed -n 's/.*"ballots":\([0-9]*\).*/\1/p')
  [[ -n "$ballots" && "$ballots" -ge 300 ]] && break
  kill -0 "$load_pid" 2>/dev/null || break
  sleep 0.5
done
[[ -n "${ballots:-}" && "$ballots" -ge 300 ]] || { wait "$load_pid" || true; fail "the fault load never got under way; see $OUT/fault/gatling.log"; }
for victim in vote-api-2 tally-worker-1; do
  pid=$(head -n 1 "$FENCED_HOME/run/pids/$victim.pid")
  say "fault: kill -9 $victim (pid $pid) at $ballots ballots"
  kill -9 "$pid"
done
if ! wait "$load_pid"; then
  load_pid=""
  fail "the fault load failed; see $OUT/fault/gatling.log"
fi
load_pid=""
if run_checker "$OUT/fault" Redis --wait-seconds 90 --resolve-ambiguous | tee "$OUT/fault/check.log"; then
  say "fault: PASS"
else
  say "fault: FAIL"
  failures=$((failures + 1))
fi
"$ROOT/scripts/local-run.sh" status >"$OUT/status-after-fault.txt" 2>&1 || true
cp -r "$FENCED_HOME/run/logs" "$OUT/service-logs" 2>/dev/null || true

if ((failures)); then
  say "$failures of 2 runs FAILED; output in $OUT"
  exit 1
fi
say "both runs PASS; output in $OUT"
