#!/usr/bin/env bash
# End-to-end checks of the whole local system through nginx, under the Redis policy:
#   1. plain: a short load, then the invariant 201 answers = ballots = sum of counts = sum of tally
#      = tallied, with enough voters acknowledged and the 201 answers' counts and fences consistent;
#   2. fault: a longer load during which one vote-api replica and the tally-worker that owns the
#      checked poll are killed with SIGKILL. The owner is found from the workers' status
#      (/api/tally/status: the poll, or its shard, among their holds); the take-over is timed, from
#      the kill until a survivor holds the poll under a newer token, and must come within the lease
#      (+ a margin). Meanwhile the fences of the poll's counters and of the tally's fenced rows are
#      sampled from the database: each must only rise. Votes that got no definite answer (cut off by the kill) are
#      sent again for the same voter, which settles whether they were recorded (409) or records
#      them now (201), so the invariant can still be checked exactly.
#   3. page: the voting page through nginx in two headless Chromium sessions (vote-api's
#      PageThroughIngressCheck): live votes and the exact tally, 409, a keyboard-only vote, the
#      phone width, and the locks view following a switch to PostgreSQL's lock table. Screenshots
#      in <output>/page/.
#
#   scripts/e2e.sh [--skip-build]
#
# FENCED_E2E_TAKEOVER_MARGIN (seconds, default 5): how long past the lease the take-over may take on
# a loaded machine (the lease lapses, then the survivor's next try takes the poll).
# Bounded in time (each load has a time limit, the tally wait is bounded); exit code non-zero on any
# failure; stops everything it started (services, nginx, and the backends it had to start).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=e2e
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

SKIP_BUILD=0
[[ "${1:-}" == --skip-build ]] && SKIP_BUILD=1
MARGIN="${FENCED_E2E_TAKEOVER_MARGIN:-5}"
[[ "$MARGIN" =~ ^[0-9]+$ ]] || fail "FENCED_E2E_TAKEOVER_MARGIN must be whole seconds, was '$MARGIN'"
OUT="$FENCED_HOME/e2e/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"

load_pid=""
sampler_pid=""
cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null
  [[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  backends_restore
}
backends_remember
trap cleanup EXIT

((SKIP_BUILD)) || build_all
"$ROOT/scripts/backends.sh" up postgres redis >/dev/null 2>&1 || fail "backends did not start"
eval "$("$ROOT/scripts/backends.sh" env)"
"$ROOT/scripts/policies.sh" "$OUT/policies" >/dev/null
REDIS_POLICY="$OUT/policies/redis.yaml"
stamp=$(date +%H%M%S)
failures=0

LEASE=$(lease_seconds "$REDIS_POLICY")
[[ "$LEASE" =~ ^[0-9]+$ && "$LEASE" -gt 0 ]] || fail "no leaseDuration in $REDIS_POLICY"

say "starting 3 vote-api + 2 tally-worker under the Redis policy (lease ${LEASE} s)"
# Round robin, whatever the caller's environment: every replica takes votes and contends for the
# locks, which is what the run checks.
export FENCED_INGRESS_AFFINITY=none
"$ROOT/scripts/local-run.sh" down >"$OUT/local-run.log" 2>&1
"$ROOT/scripts/local-run.sh" up "$REDIS_POLICY" --vote-replicas 3 --tally-replicas 2 >>"$OUT/local-run.log" 2>&1 ||
  { tail -n 20 "$OUT/local-run.log" >&2; fail "the services did not start"; }

# --- 1. plain run -------------------------------------------------------------------------------
say "plain: 500 voters, 16 at a time"
run_gatling "$OUT/plain" "e2e-$stamp-plain" -Dvoters=500 -Dconcurrency=16 -DretryShare=0.2 \
  -DmaxSeconds=120 -DtallyWaitSeconds=0 ||
  fail "the plain load failed; see $OUT/plain/gatling.log"
if run_checker "$OUT/plain" Redis --wait-seconds 60 | tee "$OUT/plain/check.log"; then
  say "plain: PASS"
else
  say "plain: FAIL"
  failures=$((failures + 1))
fi

# --- 2. fault run -------------------------------------------------------------------------------
poll="e2e-$stamp-fault"
say "fault: 4000 voters, 16 at a time, pacing 100 ms; SIGKILL of vote-api-2 and of the poll's tally owner mid-load"
run_gatling "$OUT/fault" "$poll" -Dvoters=4000 -Dconcurrency=16 -DretryShare=0.1 -DthinkMillis=100 \
  -DmaxSeconds=240 -DtallyWaitSeconds=0 &
load_pid=$!
sample_fences "$poll" "$OUT/fault/fences.tsv" &
sampler_pid=$!
# Kill once the load is well under way: some hundreds of ballots in, and the poll's tally owned.
results="$INGRESS_URL/api/polls/$poll/results"
ballots="" tallied="" owner=""
for ((i = 0; i < 240; i++)); do
  # 404 until the simulation has created the poll.
  answer=$(curl -fsS -m 2 "$results" 2>/dev/null || true)
  ballots=$(sed -n 's/.*"ballots":\([0-9]*\).*/\1/p' <<<"$answer")
  tallied=$(sed -n 's/.*"tallied":\([0-9]*\).*/\1/p' <<<"$answer")
  if [[ -n "$ballots" && "$ballots" -ge 300 && "${tallied:-0}" -gt 0 ]]; then
    # shellcheck disable=SC2046
    owner=$(tally_owner "$poll" $(tally_workers) 2>/dev/null) && break
  fi
  kill -0 "$load_pid" 2>/dev/null || break
  sleep 0.5
done
if [[ -z "$owner" ]]; then
  wait "$load_pid" || true
  load_pid=""
  fail "the fault load never got under way or no tally-worker owned poll $poll (ballots ${ballots:-none}, tallied ${tallied:-none}); see $OUT/fault/gatling.log and $FENCED_HOME/run/logs/"
fi
read -r owner owner_token <<<"$owner"
for victim in vote-api-2 "$owner"; do
  pid=$(head -n 1 "$FENCED_HOME/run/pids/$victim.pid")
  say "fault: kill -9 $victim (pid $pid) at $ballots ballots$([[ $victim == "$owner" ]] && echo ", the owner of $poll's tally (token $owner_token)")"
  kill -9 "$pid"
done
killed_at=$(now_ms)
# Take-over: a surviving worker holds the poll (or its shard), under a newer token.
# shellcheck disable=SC2046
if takeover=$(tally_owner "$poll" $(tally_workers "$owner") --since "$killed_at" --wait-seconds $((LEASE + MARGIN + 30))); then
  read -r heir heir_token takeover_ms <<<"$takeover"
  if ((heir_token <= owner_token)); then
    say "fault: FAIL: $heir took $poll over with token $heir_token, not above the dead owner's $owner_token"
    failures=$((failures + 1))
  elif ((takeover_ms > (LEASE + MARGIN) * 1000)); then
    say "fault: FAIL: $heir took $poll over after $takeover_ms ms, more than the lease ${LEASE} s + ${MARGIN} s"
    failures=$((failures + 1))
  else
    say "fault: $heir took $poll over after $takeover_ms ms (lease ${LEASE} s + margin ${MARGIN} s), token $heir_token"
  fi
else
  say "fault: FAIL: no tally-worker took $poll over within $((LEASE + MARGIN + 30)) s of the kill"
  failures=$((failures + 1))
fi
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
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
if fences_only_rise "$OUT/fault/fences.tsv" >"$OUT/fault/fences-check.txt"; then
  say "fault: fences only rose: $(wc -l <"$OUT/fault/fences.tsv") samples of the counters' and the tally's fences"
else
  say "fault: FAIL: a fence went back: $(head -n 3 "$OUT/fault/fences-check.txt" | paste -sd';' -)"
  failures=$((failures + 1))
fi
"$ROOT/scripts/local-run.sh" status >"$OUT/status-after-fault.txt" 2>&1 || true

# The page through the ingress, in two headless Chromium sessions (vote-api's
# PageThroughIngressCheck): the killed processes started again, votes and the exact tally live on
# both pages, 409, a keyboard-only vote, the phone width, then a switch of the running system to
# PostgreSQL's lock table (a higher epoch) that the open locks view follows.
say "page: two browser sessions through $INGRESS_URL, then a switch to Postgres/LockTable"
mkdir -p "$OUT/page"
"$ROOT/scripts/local-run.sh" up "$REDIS_POLICY" --vote-replicas 3 --tally-replicas 2 >>"$OUT/local-run.log" 2>&1 ||
  fail "the services did not start again after the fault"
if (cd "$ROOT" && mvn -B -q -ntp test -pl vote-api -am -Djacoco.skip=true -Dspotless.skip=true \
  -Dtest=PageThroughIngressCheck -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfenced.page.url="$INGRESS_URL/" -Dfenced.page.switch-to="$OUT/policies/postgres-locktable.yaml" \
  -Dfenced.root="$ROOT") >"$OUT/page/mvn.log" 2>&1; then
  say "page: PASS $(grep -ho '\[page\].*' "$OUT/page/mvn.log" "$ROOT/vote-api/target/surefire-reports/"*PageThroughIngressCheck* 2>/dev/null | head -n 1)"
else
  say "page: FAIL; see $OUT/page/mvn.log"
  grep -E 'ERROR|Expect|expected' "$OUT/page/mvn.log" | head -n 15 >&2 || true
  failures=$((failures + 1))
fi
cp "$ROOT"/vote-api/target/screenshots/ingress-*.png "$OUT/page/" 2>/dev/null || true
cp -r "$FENCED_HOME/run/logs" "$OUT/service-logs" 2>/dev/null || true

if ((failures)); then
  say "$failures check(s) FAILED; output in $OUT"
  exit 1
fi
say "every check PASS; output in $OUT"
