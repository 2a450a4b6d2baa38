#!/usr/bin/env bash
# The measured comparison through nginx: each row on warm services (policies: switched live to the
# row's policy; scaling, idle-polls: started anew on a fresh database), with only the backends its
# policy needs running while it is measured, after a warm-up that is not counted.
#
#   scripts/compare.sh [policies|scaling|idle-polls|reads|all] [options]
#
#   policies (default)  every lock policy: closed loop (votes/s, p50, p99), capacity at SLO, votes
#                       per lock hold, acknowledged, refused, counted, lost, the invariant; the
#                       ingress balances round robin, so every replica contends for every lock
#                       name, and Redis runs once more with poll affinity, as the chart installs it.
#                       The services run on from row to row and follow each row's policy file live,
#                       as they follow a `kubectl apply` (the warm-up then waits for them to run
#                       steady again); only Atomic's setting and InProcess's single replica need
#                       processes started anew (--fresh-services: every row on new processes)
#   scaling             Redis with 1, 2, 3, 4 vote-api replicas: votes/s, p50, p99, and at each count
#                       Redis again with poll affinity at the ingress (each poll's votes to one
#                       replica), and Atomic (no lock), the control: what a replica more costs the
#                       machine whatever the lock
#   idle-polls          Redis with 0, 10,000, 100,000 idle polls in the database: votes/s, the new
#                       poll's tally lag, CPU of the tally-workers and of Redis
#   reads               GET /api/polls/{id}/results with wrk, an empty poll and one of 1,000,000 ballots,
#                       beside nginx alone and the cached GET /api/polls/{id}
#   all                 the four, one after the other
#
# Each row runs two closed loops on the warm services, each on a poll of its own: first wrk (a C
# client light enough to leave the two cores to the system) for --loop-seconds, whose votes/s, p50
# and p99 the tables show, with that poll's own check (every 201 recorded, nothing else but the
# votes in flight at its end, and Σ counts = ballots under a lock); then Gatling's, which checks every voter's answer against the database (the invariant,
# lost votes, repeated voters) and then runs the capacity ladder. Gatling's own rate is shown too:
# its JVM takes about one of the two cores, so it reads lower.
#
# Options (defaults in brackets):
#   --voters N [1500]  --concurrency N [32]  --retry-share X [0.1]
#   --service-warmup N [60]  the services are warmed with wrk (fresh voters on a poll of their
#                      own) in windows (10 s after a start, 5 s after a live policy switch) until
#                      two windows in a row gain under 3 %, at most N seconds; 0 skips it. Each
#                      row prints its warm-up curve.
#   --fresh-services   policies: every row on freshly started services and a fresh database
#                      (each row then takes about a minute longer)
#   --loop-seconds N [15]    the wrk closed loop's length; 0 skips it (the tables then show
#                      Gatling's closed loop)
#   --warmup-seconds N [5]   then the load test's own warm-up (Gatling's JVM), not counted either
#   --only LIST        policies to run: none,atomic,inprocess,redis,redis-affinity,
#                      postgres-locktable,postgres-rowlock,postgres-advisory,etcd,zookeeper [all];
#                      none runs always, so that every run shows the race its locks prevent
#   --skip-build       use the jars and the load test an earlier build made
#   --rates LIST       capacity levels, votes/s [100,200,300,450,700,1000,1500,2200,3300]
#   --ladder-start X [0.25]  a row's ladder starts at the highest level at most X × its closed
#                      loop's votes/s (the levels far below what the row serves are skipped); 0:
#                      every row starts at the first level
#   --level-seconds N [4]   --no-capacity
#   --capacity-all     the capacity ladder on every locking row; by default on Atomic, Redis and
#                      the three Postgres modes only
#   --replicas LIST [1,2,3,4]   --no-scaling-control (scaling without the Atomic rows)
#   --no-scaling-affinity   scaling without the poll-affinity rows
#   --idle-polls LIST [0,10000,100000]
#   --read-ballots N [1000000]  --wrk-seconds N [10]
#   --long             --voters 10000 --service-warmup 180 --warmup-seconds 20 --level-seconds 10
#                      --wrk-seconds 30 --loop-seconds 30 --capacity-all --rates 25,50,100,...,3300,
#                      --ladder-start 0,
#                      and reads warmed 30 s per request [15]
#   --write-docs       write this run's tables into docs/local-run.md and its data and chart into
#                      docs/compare/
#   --note TEXT        a line kept with the run (e.g. "quiet machine")
#
# Order of the policies in the table: None (no lock: the read-modify-write race loses votes),
# Atomic (no lock: the database adds, the baseline), InProcess on one vote-api replica (correct,
# cannot scale out), then every distributed backend on 3 vote-api and 2 tally-worker replicas.
# They run in the order that starts the fewest processes: Atomic (vote-api started with
# FENCED_VOTE_COUNTER=atomic), None (vote-api started anew with the lock), every distributed
# backend, InProcess (the replicas beyond one stopped). KubernetesLease needs an API server and is
# skipped. Output of each run: $FENCED_HOME/compare/<time>/.
# Exit code 0 when every row ran and passed, and None, if it ran, lost votes (the race shown).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=compare
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

MEASURE=policies
case "${1:-}" in
  policies | scaling | idle-polls | reads | all) MEASURE=$1; shift ;;
esac
VOTERS=1500
CONCURRENCY=32
SHARE=0.1
WARMUP=5
SERVICE_WARMUP=60
WARM_WINDOW=10
LIVE_WARM_WINDOW=5
FRESH=0
ONLY=""
RATES=100,200,300,450,700,1000,1500,2200,3300
LADDER_START=0.25
LEVEL_SECONDS=4
CAPACITY=1
# The rows the capacity ladder runs on (the no-lock baseline, and the backends whose capacity the
# docs compare); --capacity-all: every locking row.
CAPACITY_KEYS=atomic,redis,postgres-locktable,postgres-rowlock,postgres-advisory
REPLICAS=1,2,3,4
SCALING_CONTROL=1
SCALING_AFFINITY=1
IDLE=0,10000,100000
READ_BALLOTS=1000000
WRK_SECONDS=10
READ_WARMUP_SECONDS=15
LOOP_SECONDS=15
CPU_IDLE_SECONDS=10
WRITE_DOCS=0
BUILD=1
NOTE=""
while (($#)); do
  case "$1" in
    --voters) VOTERS=${2:?}; shift 2 ;;
    --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
    --retry-share) SHARE=${2:?}; shift 2 ;;
    --warmup-seconds) WARMUP=${2:?}; shift 2 ;;
    --service-warmup) SERVICE_WARMUP=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --rates) RATES=${2:?}; shift 2 ;;
    --ladder-start) LADDER_START=${2:?}; shift 2 ;;
    --level-seconds) LEVEL_SECONDS=${2:?}; shift 2 ;;
    --no-capacity) CAPACITY=0; shift ;;
    --capacity-all) CAPACITY_KEYS=all; shift ;;
    --fresh-services) FRESH=1; shift ;;
    --replicas) REPLICAS=${2:?}; shift 2 ;;
    --no-scaling-control) SCALING_CONTROL=0; shift ;;
    --no-scaling-affinity) SCALING_AFFINITY=0; shift ;;
    --idle-polls) IDLE=${2:?}; shift 2 ;;
    --read-ballots) READ_BALLOTS=${2:?}; shift 2 ;;
    --wrk-seconds) WRK_SECONDS=${2:?}; shift 2 ;;
    --loop-seconds) LOOP_SECONDS=${2:?}; shift 2 ;;
    --long)
      VOTERS=10000 WARMUP=20 SERVICE_WARMUP=180 LEVEL_SECONDS=10 WRK_SECONDS=30 LOOP_SECONDS=30 READ_WARMUP_SECONDS=30
      CAPACITY_KEYS=all RATES=25,50,100,200,300,450,700,1000,1500,2200,3300 LADDER_START=0
      shift
      ;;
    --write-docs) WRITE_DOCS=1; shift ;;
    --skip-build) BUILD=0; shift ;;
    --note) NOTE=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo pipefail/{/^set /d;p;}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || fail "$1 must be a positive whole number, was '$2'"; }
positive --voters "$VOTERS"
positive --concurrency "$CONCURRENCY"
positive --level-seconds "$LEVEL_SECONDS"
positive --read-ballots "$READ_BALLOTS"
positive --wrk-seconds "$WRK_SECONDS"
[[ "$LOOP_SECONDS" =~ ^[0-9]+$ ]] || fail "--loop-seconds must be a whole number of seconds, was '$LOOP_SECONDS'"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || fail "--warmup-seconds must be a whole number, was '$WARMUP'"
[[ "$SERVICE_WARMUP" =~ ^[0-9]+$ ]] || fail "--service-warmup must be a whole number of seconds, was '$SERVICE_WARMUP'"
[[ "$SHARE" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || fail "--retry-share must be between 0 and 1, was '$SHARE'"
[[ "$RATES" =~ ^[0-9]+(\.[0-9]+)?(,[0-9]+(\.[0-9]+)?)*$ ]] || fail "--rates must be a list like 50,100,200, was '$RATES'"
[[ "$LADDER_START" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || fail "--ladder-start must be between 0 and 1, was '$LADDER_START'"
[[ "$REPLICAS" =~ ^[1-9](,[1-9])*$ ]] || fail "--replicas must be a list of 1..9 like 1,2,3,4, was '$REPLICAS'"
[[ "$IDLE" =~ ^[0-9]+(,[0-9]+)*$ ]] || fail "--idle-polls must be a list like 0,10000,100000, was '$IDLE'"
KEYS=(none atomic inprocess redis redis-affinity postgres-locktable postgres-rowlock postgres-advisory etcd zookeeper)
if [[ -n "$ONLY" ]]; then
  for key in ${ONLY//,/ }; do
    [[ " ${KEYS[*]} " == *" $key "* ]] || fail "--only: unknown policy '$key' (expected some of: ${KEYS[*]})"
  done
  # Without None a run would show only zeros, not that the locks are what keeps them zero.
  [[ ",$ONLY," == *",none,"* ]] || ONLY="none,$ONLY"
fi

need_wrk() {
  command -v wrk >/dev/null && return 0
  [[ $(id -u) == 0 ]] || fail "wrk is missing; install the Debian package wrk"
  say "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

# index_of <word> <list...>: the word's place in the list (0-based).
index_of() {
  local word=$1 i=0
  shift
  for w in "$@"; do
    [[ $w == "$word" ]] && { echo "$i"; return 0; }
    i=$((i + 1))
  done
  fail "index_of: $word is not in $*"
}

# How the rows were warmed, for the tables' headers.
warmup_text() {
  local loop=""
  ((LOOP_SECONDS > 0)) && loop="; closed loop measured with wrk for ${LOOP_SECONDS} s, then Gatling's"
  if ((SERVICE_WARMUP > 0)); then
    echo "services warmed until steady (at most ${SERVICE_WARMUP} s, column warm-up s, in ${WARM_WINDOW} s windows after a start, ${LIVE_WARM_WINDOW} s after a live switch)${loop}, after its warm-up ${WARMUP} s"
  else
    echo "warm-up ${WARMUP} s${loop}"
  fi
}

# ladder_from <votes/s>: a row's capacity levels, from the highest of --rates at most
# LADDER_START × the row's closed-loop votes/s (from the first with no closed-loop rate, or 0).
ladder_from() {
  awk -v rates="$RATES" -v loop="${1:-0}" -v share="$LADDER_START" 'BEGIN {
    n = split(rates, r, ","); start = 1
    for (i = 1; i <= n; i++) if (r[i] + 0 <= share * loop) start = i
    out = r[start]; for (i = start + 1; i <= n; i++) out = out "," r[i]
    print out
  }'
}

OUT="$FENCED_HOME/compare/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
cleanup() {
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  backends_restore
}

t0=$SECONDS
[[ "$MEASURE" == reads ]] || ((SERVICE_WARMUP == 0)) || need_wrk
backends_remember
trap cleanup EXIT
if ((BUILD)); then
  build_all
else
  [[ -f "$FENCED_VOTE_API_JAR" && -f "$FENCED_TALLY_WORKER_JAR" && -f "$LOADTEST_CP_FILE" ]] ||
    fail "--skip-build needs the service jars and the load test built (run once without it)"
fi
"$ROOT/scripts/backends.sh" up postgres >/dev/null 2>&1 || fail "PostgreSQL did not start; run scripts/backends.sh up postgres"
eval "$("$ROOT/scripts/backends.sh" env)"
# Every row runs in a database of its own, made afresh: no poll of an earlier row or run is in it.
export FENCED_PG_DATABASE="${FENCED_COMPARE_DATABASE:-fenced_compare}"
mapfile -t POLICY_FILES < <("$ROOT/scripts/policies.sh" "$OUT/policies")
policy_file() { echo "$OUT/policies/$1.yaml"; }
"$ROOT/scripts/local-run.sh" down >/dev/null 2>&1
TEMPLATE=$(schema_template "$FENCED_PG_DATABASE" "$(policy_file inprocess)")
write_meta "$OUT/meta.tsv" note "${NOTE:--}"

# warm_services <dir> <poll> <polls> <window>: fresh voters through the ingress on polls of their
# own (1, or <poll>-1..<poll>-N: under poll affinity each poll reaches one replica, so only many
# polls warm every replica, whichever the measured polls then hash to), at the closed loop's
# concurrency, in windows of <window> seconds, until the services are warm: two windows in a row
# that do not beat the best window before them by more than 3 % (the JIT has compiled what the load
# needs, the pools have grown), or SERVICE_WARMUP seconds. On two cores shared by five freshly
# started JVMs this takes a minute or more; after a live policy switch only the new backend's path
# is cold. A row measured colder reads as a slower lock.
# Prints "<seconds> <steady|rising> <rate/rate/...>"; the rates go to <dir>/warm-up.txt too.
warm_services() {
  local dir=$1 poll=$2 count=$3 window=$4 spent=0 best=0 flat=0 rate rates=() state=rising polls=() p
  if ((count == 1)); then polls=("$poll"); else for ((p = 1; p <= count; p++)); do polls+=("$poll-$p"); done; fi
  for p in "${polls[@]}"; do
    curl -fsS -m 10 -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"id\":\"$p\",\"title\":\"warm-up\",\"options\":[\"cat\",\"dog\"]}" \
      "$INGRESS_URL/api/polls" || { echo "0 failed -"; return 0; }
  done
  while ((spent + window <= SERVICE_WARMUP)); do
    rate=$(wrk -t2 -c"$CONCURRENCY" -d"${window}s" --timeout 10s -s "$ROOT/scripts/lib/fresh-votes.lua" \
      "$INGRESS_URL/api/polls/${polls[0]}/votes" -- "w$spent" "${polls[@]}" 2>>"$dir/warm-up.txt" | awk '/^RESULT/ { printf "%.0f", $3 }')
    rate=${rate:-0} # no RESULT line: the window served nothing
    spent=$((spent + window))
    rates+=("$rate")
    echo "${spent}s $rate votes/s" >>"$dir/warm-up.txt"
    if awk -v r="$rate" -v b="$best" 'BEGIN { exit !(r > b * 1.03) }'; then
      flat=0
    else
      flat=$((flat + 1))
    fi
    ((rate > best)) && best=$rate
    if ((flat >= 2)); then
      state=steady
      break
    fi
  done
  ((${#rates[@]})) || rates=(-)
  echo "$spent $state $(IFS=/; echo "${rates[*]}")"
}

# light_loop <dir> <poll> <locked 0|1>: the closed loop measured with wrk, CONCURRENCY connections
# of fresh voters for LOOP_SECONDS on a poll of its own, then that poll's own check: every 201
# recorded (ballots ≥ 201 answers) and nothing else but the votes in flight when wrk stopped, whose
# answers it drops (ballots ≤ 201 answers + CONCURRENCY; a 503 records nothing), and under a lock
# every ballot counted (Σ counts = ballots). A socket error or timeout leaves a vote unresolved, so
# the check then says so instead of judging. Prints --tag options for the checker's row.
light_loop() {
  local dir=$1 poll=$2 locked=$3 line ok rate p50 p99 non2xx sockerr results ballots counted check
  curl -fsS -m 10 -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"id\":\"$poll\",\"title\":\"closed loop (wrk)\",\"options\":[\"cat\",\"dog\"]}" \
    "$INGRESS_URL/api/polls" || return 0
  line=$(wrk -t2 -c"$CONCURRENCY" -d"${LOOP_SECONDS}s" --timeout 10s -s "$ROOT/scripts/lib/fresh-votes.lua" \
    "$INGRESS_URL/api/polls/$poll/votes" -- loop 2>&1 | tee "$dir/wrk-loop.txt" | awk '/^RESULT/')
  [[ -n "$line" ]] || return 0
  read -r _ ok rate p50 p99 non2xx sockerr <<<"$line"
  sleep 1 # a replica's cached results live 500 ms
  results=$(curl -fsS -m 10 "$INGRESS_URL/api/polls/$poll/results") || return 0
  echo "$results" >"$dir/wrk-loop-results.json"
  ballots=$(sed -n 's/.*"ballots":\([0-9]*\).*/\1/p' <<<"$results")
  counted=$(grep -o '"counts":{[^}]*}' <<<"$results" | grep -o ':[0-9]*' | tr -d : | awk '{ s += $1 } END { print s + 0 }')
  if ((sockerr > 0)); then
    check="unresolved: $sockerr votes without an answer"
  elif ((ok == 0)); then
    check="FAIL: no vote answered 201"
  elif ((ballots < ok)); then
    check="FAIL: $ballots ballots for $ok answers 201"
  elif ((ballots > ok + CONCURRENCY)); then
    check="FAIL: $ballots ballots for $ok answers 201 and at most $CONCURRENCY in flight"
  elif ((locked && counted != ballots)); then
    check="FAIL: counts $counted for $ballots ballots"
  elif ((counted != ballots)); then
    check="lost $((ballots - counted))"
  else
    check=PASS
  fi
  printf -- '--tag\nloopVotes=%s\n--tag\nloopP50=%s\n--tag\nloopP99=%s\n--tag\nloopCheck=%s\n' \
    "$rate" "$p50" "$p99" "$check"
}

# measure <kind> <label> <policy> <policy-file> <vote-api> <tally-worker> <counter> <capacity 0|1>
#         [--idle N] [--cpu] [--affinity none|poll] [--live] [--tag KEY=VALUE ...]
# One row: fresh services under the policy, warm-up, closed loop, tally lag, capacity ladder, check.
# --affinity: how the ingress spreads the requests (FENCED_INGRESS_AFFINITY of local-run.sh); a
# row with poll affinity is tagged affinity=poll.
# --live: the services of the row before keep running and follow the new policy file live (those
# whose settings differ are started anew, replicas beyond the counts stopped), in the database of
# the first live row; the backends the row does not use are stopped once the warm-up is over (the
# services have closed what they held there by then). The row is tagged services=live|started.
# --cpu: the tally-workers' and Redis's CPU, idle for CPU_IDLE_SECONDS after the start and during
# the load, kept with the row as tags.
# A row that does not come to a verdict leaves no line in <kind>.jsonl; the report fails it.
measure() {
  local kind=$1 label=$2 policy=$3 file=$4 votes=$5 tallies=$6 counter=$7 capacity=$8
  shift 8
  local idle=0 cpu=0 affinity=none live=0 tags=()
  while (($#)); do
    case "$1" in
      --idle) idle=$2; shift 2 ;;
      --cpu) cpu=1; shift ;;
      --affinity) affinity=$2; shift 2 ;;
      --live) live=1; shift ;;
      --tag) tags+=(--tag "$2"); shift 2 ;;
      *) fail "measure: unknown option $1" ;;
    esac
  done
  [[ $affinity == none ]] || tags+=(--tag "affinity=$affinity")
  local row_t0=$SECONDS n=$((++ROW)) slug
  slug=$(tr -c 'a-zA-Z0-9\n' '-' <<<"$label" | tr '[:upper:]' '[:lower:]')
  local dir="$OUT/$kind/$n-$slug" poll="cmp-$n-$slug"
  mkdir -p "$dir"
  say "[$kind $n] $label: $votes vote-api + $tallies tally-worker, counter $counter; backends $(
    "$ROOT/scripts/local-run.sh" backends "$file" | paste -sd' '
  )"
  local backends before="" started=1 epoch
  backends=$("$ROOT/scripts/local-run.sh" backends "$file" | paste -sd' ')
  if ((live)) && [[ -n "$(running_services)" ]]; then
    # shellcheck disable=SC2086 # one backend a word
    "$ROOT/scripts/backends.sh" up $backends >/dev/null 2>&1 || fail "backends $backends did not start"
    mark_logs "$dir"
    before=$(running_services)
    epoch=$(with_epoch "$file" "$dir/policy.yaml")
    file="$dir/policy.yaml"
  else
    "$ROOT/scripts/local-run.sh" down >"$dir/local-run.log" 2>&1
    # shellcheck disable=SC2086 # one backend a word
    only_backends $backends
    fresh_database "$FENCED_PG_DATABASE" "$TEMPLATE"
    rm -f "$FENCED_HOME/run/logs/"*.log # each row keeps its own copy of the service logs
  fi
  if ((idle > 0)); then
    # The services start with the idle polls already there, as after a restart of a long-lived
    # system.
    local t=$SECONDS
    insert_idle_polls 1 "$idle"
    say "[$kind $n] $label: $idle idle polls inserted in $((SECONDS - t)) s"
  fi
  if ! FENCED_VOTE_COUNTER=$counter FENCED_INGRESS_AFFINITY=$affinity "$ROOT/scripts/local-run.sh" up "$file" \
    --vote-replicas "$votes" --tally-replicas "$tallies" >>"$dir/local-run.log" 2>&1; then
    tail -n 5 "$dir/local-run.log" >&2
    cp -r "$FENCED_HOME/run/logs" "$dir/service-logs" 2>/dev/null || true
    say "[$kind $n] $label: the services did not start; see $dir/local-run.log and $dir/service-logs"
    return 0
  fi
  if [[ -n "$before" ]]; then
    # Every vote-api replica ran in the row before (same pid): only the policy changed under them.
    [[ -z "$(comm -23 <(running_services | grep '^vote-api' | sort) <(grep '^vote-api' <<<"$before" | sort))" ]] && started=0
    if ! await_epoch "$epoch"; then
      say "[$kind $n] $label: the services did not take up $(basename "$file") (epoch $epoch) within 60 s; see $dir/service-logs"
      copy_logs "$dir"
      return 0
    fi
  fi
  ((live)) && tags+=(--tag "services=$( ((started)) && echo started || echo live)")
  local props=(-Dvoters="$VOTERS" -Dconcurrency="$CONCURRENCY" -DretryShare="$SHARE"
    -DwarmupSeconds="$WARMUP" -DmetricsUrls="$(metrics_urls "$votes")" -DtallyWaitSeconds=60 -DmaxSeconds=1200)
  local c0 c1 c2 r0 r1 r2 load_t0
  if ((cpu)); then
    c0=$(tally_cpu_seconds) r0=$(redis_cpu_seconds)
    sleep "$CPU_IDLE_SECONDS"
    c1=$(tally_cpu_seconds) r1=$(redis_cpu_seconds)
    tags+=(--tag "tallyCpuIdle=$(cpu_share "$c0" "$c1" "$CPU_IDLE_SECONDS")"
      --tag "redisCpuIdle=$(cpu_share "$r0" "$r1" "$CPU_IDLE_SECONDS")")
  fi
  if ((SERVICE_WARMUP > 0)); then
    local warm
    # Under poll affinity 8 polls a replica: the chance that one replica gets none of them is
    # about n·(1 − 1/n)^(8n): under 0.1 % at 2, 3 or 4 replicas.
    read -r -a warm <<<"$(warm_services "$dir" "$poll-services" "$([[ $affinity == poll ]] && echo $((8 * votes)) || echo 1)" \
      "$( ((started)) && echo "$WARM_WINDOW" || echo "$LIVE_WARM_WINDOW")")"
    say "[$kind $n] $label: services warmed for ${warm[0]} s (${warm[1]}): ${warm[2]//\// → } votes/s"
    tags+=(--tag "serviceWarmup=${warm[0]}$([[ ${warm[1]} == steady ]] || echo +)$( ((live && started)) && echo " (started)" || true)")
  fi
  # shellcheck disable=SC2086 # one backend a word
  ((live)) && only_backends $backends
  # The load's CPU window starts after the warm-up, as the load's clock does.
  if ((cpu)); then c1=$(tally_cpu_seconds) r1=$(redis_cpu_seconds); fi
  local loop=()
  if ((LOOP_SECONDS > 0)); then
    mapfile -t loop < <(light_loop "$dir" "$poll-loop" "$([[ $policy == None ]] && echo 0 || echo 1)")
    if ((${#loop[@]})); then
      tags+=("${loop[@]}")
      say "[$kind $n] $label: closed loop (wrk, ${LOOP_SECONDS} s): ${loop[1]#*=} votes/s, p50 ${loop[3]#*=} ms, p99 ${loop[5]#*=} ms; ${loop[7]#*=}"
    else
      say "[$kind $n] $label: the wrk closed loop gave no result; see $dir/wrk-loop.txt"
    fi
  fi
  local ladder=""
  if ((capacity)); then
    ladder=$(ladder_from "$([[ ${#loop[@]} -gt 1 ]] && echo "${loop[1]#*=}" || echo 0)")
    props+=(-DcapacityRates="$ladder" -DlevelSeconds="$LEVEL_SECONDS")
  fi
  say "[$kind $n] $label: warm-up ${WARMUP} s, then $VOTERS voters on poll $poll$([[ -n $ladder ]] && echo ", then the capacity ladder ($ladder votes/s)")"
  load_t0=$(date +%s.%N)
  if ! run_gatling "$dir" "$poll" "${props[@]}"; then
    say "[$kind $n] $label: the load run failed; see $dir/gatling.log"
    grep -E 'Exception|rror' "$dir/gatling.log" | head -n 3 >&2 || true
  else
    if ((cpu)); then
      c2=$(tally_cpu_seconds) r2=$(redis_cpu_seconds)
      local load_s
      load_s=$(awk -v a="$load_t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
      tags+=(--tag "tallyCpuLoad=$(cpu_share "$c1" "$c2" "$load_s")"
        --tag "redisCpuLoad=$(cpu_share "$r1" "$r2" "$load_s")")
    fi
    local rc=0
    run_checker "$dir" "$policy" --label "$label" --wait-seconds 60 --row "$OUT/$kind.jsonl" \
      "${tags[@]+"${tags[@]}"}" >"$dir/check.log" 2>&1 || rc=$?
    sed 's/^/    /' "$dir/check.log" >&2
    ((rc == 0)) || say "[$kind $n] $label: the checker exited $rc"
  fi
  copy_logs "$dir"
  say "[$kind $n] $label: $((SECONDS - row_t0)) s (all so far: $((SECONDS - t0)) s)"
}

# mark_logs <dir>: where each service log ends now, so that copy_logs keeps only this row's part.
mark_logs() {
  local f
  for f in "$FENCED_HOME"/run/logs/*.log; do
    [[ -f "$f" ]] && echo "$(basename "$f") $(stat -c %s "$f")"
  done >"$1/log-marks"
}

# copy_logs <dir>: the service logs into <dir>/service-logs, from the marks mark_logs left, if any.
copy_logs() {
  local dir=$1 f name from
  mkdir -p "$dir/service-logs"
  for f in "$FENCED_HOME"/run/logs/*.log; do
    [[ -f "$f" ]] || continue
    name=$(basename "$f")
    from=0
    [[ -f "$dir/log-marks" ]] && from=$(awk -v n="$name" '$1 == n { print $2 }' "$dir/log-marks")
    tail -c +$((${from:-0} + 1)) "$f" >"$dir/service-logs/$name"
  done
}

# service_epochs <name>: the fencing epochs in force in a running service, one a line, from its
# readiness data ("<policy>": "<backend> epoch N up ..."); "atomic" for a vote-api that takes no
# lock; nothing when it does not answer.
service_epochs() {
  local answer
  answer=$(curl -sS -m 5 "http://127.0.0.1:$(service_port "$1")/q/health/ready" 2>/dev/null) || return 0
  [[ $answer == *"votes take no lock"* ]] && echo atomic
  grep -o ' epoch [0-9]*' <<<"$answer" | awk '{ print $2 }' || true
}

# with_epoch <file> <out>: <file> with its policies' locks.fenced.dev/epoch above every epoch in
# force in the running services (the backends' ledgers may have raised them above the files', and
# a move to another backend needs a higher epoch: docs/lockpolicy.md), as <out>; prints the epoch.
with_epoch() {
  local file=$1 out=$2 epoch top name
  epoch=$(sed -n 's/^ *locks.fenced.dev\/epoch: *"\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$file" | sort -n | tail -n 1)
  top=$(while read -r name _; do service_epochs "$name"; done < <(running_services) | grep -x '[0-9]*' | sort -n | tail -n 1)
  ((${top:-0} >= ${epoch:-0})) && epoch=$((top + 1))
  sed "s/^\( *locks.fenced.dev\/epoch:\).*/\1 \"$epoch\"/" "$file" >"$out"
  echo "$epoch"
}

# await_epoch <epoch>: every running service has taken up the new policy file, within 60 s: each
# reports epochs in force and none below <epoch> (a vote-api that takes no lock has none to report).
await_epoch() {
  local epoch=$1 deadline=$((SECONDS + 60)) pending name got
  while ((SECONDS < deadline)); do
    pending=0
    while read -r name _; do
      got=$(service_epochs "$name")
      [[ $got == atomic* ]] && continue
      [[ -n "$got" ]] && (($(sort -n <<<"$got" | head -n 1) >= epoch)) || pending=1
    done < <(running_services)
    ((pending)) || return 0
    sleep 0.5
  done
  return 1
}

ROW=0
kinds=()

measure_policies() {
  local key label votes tallies counter capacity affinity rows=() plan=() live=()
  ((FRESH)) || live=(--live)
  # The files come in the order they run (scripts/policies.sh), each with a higher epoch than the
  # one before, as the services following them live need; the table keeps the order of KEYS.
  for file in "${POLICY_FILES[@]}"; do
    key=$(basename "$file" .yaml)
    votes=3 tallies=2 counter=locked capacity=$CAPACITY
    case "$key" in
      none) label=None capacity=0 ;; # a capacity that loses votes is no capacity
      atomic) label=Atomic counter=atomic ;;
      inprocess) label=InProcess votes=1 tallies=1 ;;
      redis) label=Redis ;;
      postgres-locktable) label=Postgres-LockTable ;;
      postgres-rowlock) label=Postgres-RowLock ;;
      postgres-advisory) label=Postgres-Advisory ;;
      etcd) label=Etcd ;;
      zookeeper) label=ZooKeeper ;;
      *) continue ;;
    esac
    for affinity in none poll; do
      local selected=$key
      if [[ $affinity == poll ]]; then
        # Redis once more with poll affinity at the ingress: each poll's votes meet in one
        # replica, as the chart's ingress.affinity=poll sends them.
        [[ $key == redis ]] || continue
        selected=redis-affinity label="Redis, poll affinity"
      fi
      [[ -z "$ONLY" || ",$ONLY," == *",$selected,"* ]] || continue
      [[ $CAPACITY_KEYS == all || ",$CAPACITY_KEYS," == *",$selected,"* ]] || capacity=0
      rows+=("$label|$file|$votes|$tallies|$counter|$capacity|$affinity")
      plan[$(index_of "$selected" "${KEYS[@]}")]=$label
    done
  done
  printf '%s\n' "${plan[@]}" >"$OUT/policies.plan"
  local services="every row on freshly started services"
  ((FRESH)) || services="the services run on from row to row and follow each row's policy file live (started anew where the row needs it: warm-up marked started), warmed again after every switch"
  local closed="$VOTERS voters, $CONCURRENCY concurrent, ${SHARE} vote twice; $services; $(warmup_text); the ingress balances round robin (Redis, poll affinity: each poll's votes to one replica)"
  local capacity_levels="not measured (--no-capacity)"
  local capacity_rows="Atomic, Redis and the three Postgres modes (--capacity-all: every locking row)"
  [[ $CAPACITY_KEYS == all ]] && capacity_rows="every locking row"
  local ladder_start=""
  [[ $LADDER_START =~ ^0(\.0+)?$ ]] || ladder_start=", each row from the highest at most $LADDER_START × its closed loop's votes/s"
  ((CAPACITY)) && capacity_levels="levels $RATES votes/s$ladder_start, ${LEVEL_SECONDS} s each, on $capacity_rows; SLO p99 ≤ 100 ms, no status but 201 and 503, ≤ 1 % 503"
  printf 'closed loop\t%s\ncapacity\t%s\nKubernetesLease\t%s\n' "$closed" "$capacity_levels" \
    "skipped: it needs a Kubernetes API server, none can run on this machine (docs/design.md §8)" >"$OUT/policies.meta.tsv"
  say "policies: ${#rows[@]} rows; closed loop: $closed; capacity: $capacity_levels"
  say "KubernetesLease: skipped (it needs a Kubernetes API server; none can run on this machine, see docs/design.md §8)"
  local row
  for row in "${rows[@]}"; do
    IFS='|' read -r label file votes tallies counter capacity affinity <<<"$row"
    measure policies "$label" "${label%%,*}" "$file" "$votes" "$tallies" "$counter" "$capacity" \
      --affinity "$affinity" "${live[@]+"${live[@]}"}"
  done
  kinds+=(policies)
}

measure_scaling() {
  local n control="" affinity=""
  ((SCALING_AFFINITY)) && affinity="; at each count Redis again with poll affinity at the ingress (a poll's votes to one replica)"
  ((SCALING_CONTROL)) && control="; at each count Atomic (no lock) as the control"
  printf 'scaling\tRedis, 2 tally-worker replicas, round robin at the ingress%s%s; %s voters, %s concurrent, %s\n' \
    "$affinity" "$control" "$VOTERS" "$CONCURRENCY" "$(warmup_text)" >"$OUT/scaling.meta.tsv"
  for n in ${REPLICAS//,/ }; do
    echo "$n vote-api" >>"$OUT/scaling.plan"
    ((SCALING_AFFINITY)) && echo "$n vote-api, poll affinity" >>"$OUT/scaling.plan"
    ((SCALING_CONTROL)) && echo "$n vote-api, Atomic" >>"$OUT/scaling.plan"
  done
  for n in ${REPLICAS//,/ }; do
    measure scaling "$n vote-api" Redis "$(policy_file redis)" "$n" 2 locked 0 --tag "replicas=$n"
    if ((SCALING_AFFINITY)); then
      measure scaling "$n vote-api, poll affinity" Redis "$(policy_file redis)" "$n" 2 locked 0 \
        --affinity poll --tag "replicas=$n"
    fi
    if ((SCALING_CONTROL)); then
      measure scaling "$n vote-api, Atomic" Atomic "$(policy_file atomic)" "$n" 2 atomic 0 \
        --tag "replicas=$n"
    fi
  done
  kinds+=(scaling)
}

measure_idle_polls() {
  local n
  printf 'idle polls\tRedis, 3 vote-api + 2 tally-worker; %s voters, %s concurrent, %s; tally lag: from the last answer until tallied = ballots; CPU: %% of one core, both tally-workers together, idle over %s s after the start and during the load (warm-up and closed loop)\n' \
    "$VOTERS" "$CONCURRENCY" "$(warmup_text)" "$CPU_IDLE_SECONDS" >"$OUT/idle-polls.meta.tsv"
  for n in ${IDLE//,/ }; do echo "$n" >>"$OUT/idle-polls.plan"; done
  for n in ${IDLE//,/ }; do
    measure idle-polls "$n" Redis "$(policy_file redis)" 3 2 locked 0 --idle "$n" --cpu --tag "idlePolls=$n"
  done
  kinds+=(idle-polls)
}

# GET /api/polls/{id}/results through nginx with wrk: an empty poll, and one whose ballots were
# inserted with SQL (as many voters would have cast them), once tally-worker has folded them all,
# so that no fold runs during the measurement; beside them, what bounds any read through this
# ingress: nginx answering alone (/nginx-health), and the cached GET /api/polls/{id}.
measure_reads() {
  local file dir="$OUT/reads" big="reads-$READ_BALLOTS" results ballots label request path given
  file=$(policy_file redis)
  mkdir -p "$dir"
  need_wrk
  printf 'reads\tthrough nginx, Redis policy, 3 vote-api + 2 tally-worker; each request through vote-api warmed for %s s before any is measured; then each row wrk -t2 -c32 -d%ss --timeout 30s --latency after a 3 s warm-up\n' \
    "$READ_WARMUP_SECONDS" "$WRK_SECONDS" >"$OUT/reads.meta.tsv"
  # label|request|path|given (-1: the request reads no ballots; else the ballots the poll was
  # given, which its results must answer)
  local rows=(
    "nginx alone|GET /nginx-health|/nginx-health|-1"
    "poll, cached|GET /api/polls/{id}|/api/polls/$big|-1"
    "results, empty poll|GET /api/polls/{id}/results|/api/polls/reads-empty/results|0"
    "results, $READ_BALLOTS ballots|GET /api/polls/{id}/results|/api/polls/$big/results|$READ_BALLOTS"
  )
  local row
  for row in "${rows[@]}"; do cut -d'|' -f1 <<<"$row" >>"$OUT/reads.plan"; done
  "$ROOT/scripts/local-run.sh" down >"$dir/local-run.log" 2>&1
  # shellcheck disable=SC2046
  only_backends $("$ROOT/scripts/local-run.sh" backends "$file")
  fresh_database "$FENCED_PG_DATABASE" "$TEMPLATE"
  FENCED_VOTE_COUNTER=locked "$ROOT/scripts/local-run.sh" up "$file" >>"$dir/local-run.log" 2>&1 ||
    { say "reads: the services did not start; see $dir/local-run.log"; kinds+=(reads); return 0; }
  for poll in reads-empty "$big"; do
    curl -fsS -m 10 -H 'Content-Type: application/json' "$INGRESS_URL/api/polls" \
      -d "{\"id\":\"$poll\",\"title\":\"Cats or dogs?\",\"options\":[\"cat\",\"dog\"]}" >/dev/null
  done
  local t=$SECONDS
  insert_ballots "$big" "$READ_BALLOTS"
  say "reads: $READ_BALLOTS ballots inserted in $((SECONDS - t)) s; waiting for tally-worker to fold them"
  t=$SECONDS
  while :; do
    results=$(curl -fsS -m 30 "$INGRESS_URL/api/polls/$big/results" || true)
    [[ "$results" =~ \"ballots\":([0-9]+).*\"tallied\":([0-9]+) ]] &&
      ((BASH_REMATCH[2] >= BASH_REMATCH[1] && BASH_REMATCH[1] > 0)) && break
    ((SECONDS - t < 600)) || { say "reads: the tally did not fold the ballots within 600 s: $results"; break; }
    sleep 2
  done
  say "reads: folded after $((SECONDS - t)) s"
  # The services just started: warm each of their requests before measuring any, or the first
  # row measured pays the compilation of the path all of them share (in a run of 2026-12-03 the
  # three requests read 8,173, 22,203 and 30,837 requests/s in the order they ran).
  for row in "${rows[@]}"; do
    IFS='|' read -r label request path given <<<"$row"
    if [[ $path == /api/* ]]; then
      wrk -t2 -c32 -d"${READ_WARMUP_SECONDS}s" --timeout 30s "$INGRESS_URL$path" >/dev/null 2>&1 || true
    fi
  done
  say "reads: each request through vote-api warmed for $READ_WARMUP_SECONDS s"
  for row in "${rows[@]}"; do
    IFS='|' read -r label request path given <<<"$row"
    local url="$INGRESS_URL$path" out
    ballots=-1
    out="$dir/$(tr -c 'a-zA-Z0-9\n' '-' <<<"$label").wrk.txt"
    if ((given >= 0)); then
      results=$(curl -fsS -m 30 "$url" || true)
      ballots=$(sed -n 's/.*"ballots":\([0-9]*\).*/\1/p' <<<"$results")
      if [[ "${ballots:-0}" != "$given" ]]; then
        say "reads: $label: the results answer ${ballots:-nothing} ballots for $given given; the row fails"
      fi
    fi
    # A 30 s timeout: wrk leaves timed-out requests out of its latencies, so a slow read must be
    # measured, not dropped (its default is 2 s).
    wrk -t2 -c32 -d3s --timeout 30s "$url" >/dev/null 2>&1 || true
    if wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 30s --latency "$url" >"$out" 2>&1; then
      java -cp "$(loadtest_cp)" dev.fenced.loadtest.report.ReadRow --label "$label" --request "$request" \
        --ballots "${ballots:-0}" --expect-ballots "$given" --wrk "$out" --row "$OUT/reads.jsonl" ||
        say "reads: $label: could not read wrk's output $out"
    else
      say "reads: $label: wrk failed; see $out"
    fi
    say "reads: $label: $(grep -E 'Requests/sec' "$out" | tr -s ' ')"
  done
  cp -r "$FENCED_HOME/run/logs" "$dir/service-logs" 2>/dev/null || true
  kinds+=(reads)
}

case "$MEASURE" in
  policies) measure_policies ;;
  scaling) measure_scaling ;;
  idle-polls) measure_idle_polls ;;
  reads) measure_reads ;;
  all) measure_policies; measure_scaling; measure_idle_polls; measure_reads ;;
esac
"$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
printf 'took\t%s s\nload after\t%s\n' "$((SECONDS - t0))" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"

report=(--run "$OUT")
((WRITE_DOCS)) && report+=(--docs "$ROOT/docs/local-run.md" --data "$ROOT/docs/compare")
status=0
run_report "${report[@]}" || status=$?
echo
echo "$(nproc) cores; $((SECONDS - t0)) s in all; runs, reports and service logs: $OUT"
exit $status
