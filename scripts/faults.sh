#!/usr/bin/env bash
# The fault matrix: the voting system of scripts/local-run.sh (3 vote-api + 1 tally-worker behind
# nginx) under load, one cell per distributed lock policy and fault, each on freshly started
# services, a fresh database and only the backends its policy needs. The fault always hits
# vote-api-3 or the policy's lock backend, a few seconds into a closed loop of voters (Gatling,
# through the ingress) that runs on for long enough to see the system recover:
#
#   pause      vote-api-3 stopped (SIGSTOP) for the lease + 3 s, then continued (SIGCONT): a holder
#              that wakes up past its lease, with its vote half done
#   kill       vote-api-3 killed (SIGKILL) mid-load, its holds left to expire
#   restart    the lock backend stopped and started again (scripts/backends.sh restart)
#   partition  the network between vote-api-3 and the lock backend cut for the lease + 5 s, then
#              healed: vote-api-3 reaches the backend through a proxy that drops every byte both
#              ways while cut (BlackHoleProxy, lock-sdk test sources), so nothing is refused or
#              reset, both ends only time out
#   clock      vote-api-3's wall clock (libfaketime, Debian's faketime) jumps an hour forward, stays
#              there for the lease, and jumps back; its monotonic clock runs on
#   failover   Redis only: every service reaches Redis through Sentinel (the policy's redis.sentinel,
#              scripts/backends.sh's master set: a primary, an asynchronous replica, one Sentinel);
#              the primary is killed (SIGKILL) mid-load, and the Sentinel promotes the replica, which
#              may lack the last fence increments and lock keys: the deck's failure, through nginx
#
# Each cell checks, and the table shows:
#   - the invariant: 201 answers = ballots = sum of counts = sum of tally = tallied (the checker,
#     with votes cut off by the fault sent again to settle them), at least --min-acknowledged of the
#     voters acknowledged;
#   - fences as storage accepted them: a trigger on the fenced rows (counters, tally shards) logs
#     every committed write; none may lower a row's fence (backward), keep it under another holder
#     (a repeated token), or change a count by other than one (a vote counted twice or lost);
#   - the 503 answers, and the votes that a stale holder tried and storage refused
#     (fence_rejected, lease_lost);
#   - the time to recover: from the start of the fault until the last pause of more than a second
#     in the recorded ballots ends, against the goal lease + 2 s (plus the time the backend was down,
#     for a restart); a pause counts when it is longer than a second and than every pause in the
#     ballots of the 10 s before the fault (the load warms the services up for 8 s on a poll of its
#     own first, so that those are not the first, slow seconds). Shown, and marked when over the goal, but it does not fail a cell:
#     it is a time measured on a shared machine.
#
#   scripts/faults.sh [--only POLICIES] [--faults FAULTS] [--ci] [--write-docs] [--skip-build]
#   scripts/faults.sh --report RUN-DIR [--write-docs]    the table of an earlier run again
#
#   --only       policies: redis,postgres-locktable,postgres-rowlock,postgres-advisory,etcd,zookeeper [all]
#   --faults     faults: pause,kill,restart,partition,clock,failover [all; failover for redis only]
#   --ci         the subset CI runs (redis×pause, redis×failover, postgres-locktable×partition),
#                no docs
#   --write-docs the table of this run into docs/faults.md (generated section); the default when
#                the whole matrix runs
#   --load-seconds N [45]  --concurrency N [12]  --min-acknowledged X [0.5]
#
# Output: $FENCED_HOME/faults/<time>/ (cells.tsv, table.md, one folder per cell with the load's
# summary, the check, the service logs). Exit code 0 when every cell passed: the invariant held and
# no fence went backward or repeated.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=faults
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

POLICIES=(redis postgres-locktable postgres-rowlock postgres-advisory etcd zookeeper)
FAULTS=(pause kill restart partition clock failover)
CI_CELLS=(redis:pause redis:failover postgres-locktable:partition)
ONLY=""
ONLY_FAULTS=""
CI=0
WRITE_DOCS=""
SKIP_BUILD=0
LOAD_SECONDS=45
CONCURRENCY=12
MIN_ACK=0.5
REPORT=""
while (($#)); do
  case "$1" in
    --only) ONLY=${2:?}; shift 2 ;;
    --faults) ONLY_FAULTS=${2:?}; shift 2 ;;
    --ci) CI=1; shift ;;
    --write-docs) WRITE_DOCS=1; shift ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --load-seconds) LOAD_SECONDS=${2:?}; shift 2 ;;
    --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
    --min-acknowledged) MIN_ACK=${2:?}; shift 2 ;;
    --report) REPORT=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,49p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done
[[ "$LOAD_SECONDS" =~ ^[1-9][0-9]*$ ]] || fail "--load-seconds must be a positive whole number, was '$LOAD_SECONDS'"
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || fail "--concurrency must be a positive whole number, was '$CONCURRENCY'"
[[ "$MIN_ACK" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || fail "--min-acknowledged must be between 0 and 1, was '$MIN_ACK'"
for p in ${ONLY//,/ }; do
  [[ " ${POLICIES[*]} " == *" $p "* ]] || fail "--only: unknown policy '$p' (expected some of: ${POLICIES[*]})"
done
for f in ${ONLY_FAULTS//,/ }; do
  [[ " ${FAULTS[*]} " == *" $f "* ]] || fail "--faults: unknown fault '$f' (expected some of: ${FAULTS[*]})"
done

CELLS=()
if ((CI)); then
  CELLS=("${CI_CELLS[@]}")
else
  for p in "${POLICIES[@]}"; do
    [[ -z "$ONLY" || ",$ONLY," == *",$p,"* ]] || continue
    for f in "${FAULTS[@]}"; do
      [[ -z "$ONLY_FAULTS" || ",$ONLY_FAULTS," == *",$f,"* ]] || continue
      [[ $f != failover || $p == redis ]] || continue
      CELLS+=("$p:$f")
    done
  done
  # The whole matrix writes the docs unless told otherwise.
  [[ -z "$ONLY$ONLY_FAULTS" && -z "$WRITE_DOCS" ]] && WRITE_DOCS=1
fi
WRITE_DOCS=${WRITE_DOCS:-0}

# Five JVMs starting at once on a small, busy machine may need more than local-run.sh's 120 s.
export FENCED_READY_SECONDS="${FENCED_READY_SECONDS:-300}"
OUT="$FENCED_HOME/faults/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
VICTIM=vote-api-3
# Round robin, whatever the caller's environment: with poll affinity the victim might serve none of
# the load's polls, and a cell would test nothing.
export FENCED_INGRESS_AFFINITY=none
# Marks a problem that is only a time over its goal: shown, not failing the cell.
SLOW="(slow)"
PROXY_PORT=$((${FENCED_INGRESS_PORT:-18100} + 150))
PROXY_CONTROL=$((PROXY_PORT + 1))
PROXY_SOURCE="$ROOT/lock-sdk/src/test/java/dev/fenced/lock/testing/BlackHoleProxy.java"

load_pid=""
proxy_pid=""
stopped_pid=""
cleanup() {
  [[ -n "$stopped_pid" ]] && kill -CONT "$stopped_pid" 2>/dev/null
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null
  stop_proxy
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  rm -rf "$FENCED_HOME/run/overrides"
  "$ROOT/scripts/backends.sh" down sentinel >/dev/null 2>&1 || true
  backends_restore
}

# --- faults --------------------------------------------------------------------------------------

backend_of() {
  case "$1" in
    redis) echo redis ;;
    postgres-*) echo postgres ;;
    etcd) echo etcd ;;
    zookeeper) echo zookeeper ;;
  esac
}

backend_port() {
  case "$1" in
    redis) echo "${FENCED_REDIS_PORT:-16379}" ;;
    postgres) echo "${FENCED_PG_PORT:-15432}" ;;
    etcd) echo "${FENCED_ETCD_PORT:-12379}" ;;
    zookeeper) echo "${FENCED_ZK_PORT:-12181}" ;;
  esac
}

proxy_command() {
  local answer
  exec 7<>"/dev/tcp/127.0.0.1/$PROXY_CONTROL" || return 1
  printf '%s\n' "$1" >&7
  IFS= read -r -t 10 answer <&7 || answer="no answer"
  exec 7>&-
  echo "$answer"
}

# start_proxy <backend-port>: the black-holing proxy in front of the backend, passing.
start_proxy() {
  java "$PROXY_SOURCE" --listen "$PROXY_PORT" --target "127.0.0.1:$1" --control "$PROXY_CONTROL" \
    >"$cell_dir/proxy.log" 2>&1 &
  proxy_pid=$!
  for ((i = 0; i < 150; i++)); do
    [[ "$(proxy_command status 2>/dev/null)" == passing* ]] && return 0
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.2
  done
  fail "the proxy did not start; see $cell_dir/proxy.log"
}

stop_proxy() {
  if [[ -n "$proxy_pid" ]]; then
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
    proxy_pid=""
  fi
}

libfaketime() {
  local lib
  lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
  if [[ -z "$lib" ]]; then
    [[ $(id -u) == 0 ]] || fail "libfaketime is missing; install the Debian package faketime"
    say "installing faketime"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime >/dev/null
    lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
  fi
  [[ -n "$lib" ]] || fail "no libfaketimeMT.so.1 after installing faketime"
  echo "$lib"
}

# prepare <policy> <fault> <policy-file>: what vote-api-3 needs before it starts, for the fault.
prepare() {
  local key=$1 fault=$2 file=$3 backend port
  rm -rf "$FENCED_HOME/run/overrides"
  mkdir -p "$FENCED_HOME/run/overrides"
  case "$fault" in
    partition)
      backend=$(backend_of "$key")
      port=$(backend_port "$backend")
      start_proxy "$port"
      # vote-api-3 follows a copy of the policy whose backend address is the proxy's.
      mkdir -p "$cell_dir/victim-policies"
      sed -E "s/([:= ])$port\b/\1$PROXY_PORT/g" "$file" >"$cell_dir/victim-policies/policy.yaml"
      cmp -s "$file" "$cell_dir/victim-policies/policy.yaml" && fail "no port $port in $file to send through the proxy"
      echo "FENCED_POLICIES_DIR=$cell_dir/victim-policies" >"$FENCED_HOME/run/overrides/$VICTIM.env"
      ;;
    clock)
      echo "+0" >"$cell_dir/clock"
      {
        echo "LD_PRELOAD=$(libfaketime)"
        echo "FAKETIME_TIMESTAMP_FILE=$cell_dir/clock"
        echo "FAKETIME_CACHE_DURATION=1"
        # Only the wall clock jumps, as when it is stepped; the monotonic clock runs on.
        echo "FAKETIME_DONT_FAKE_MONOTONIC=1"
        # Without it, the JVM's timed waits hang under libfaketime (they never return).
        echo "FAKETIME_FORCE_MONOTONIC_FIX=0"
      } >"$FENCED_HOME/run/overrides/$VICTIM.env"
      ;;
  esac
}

victim_pid() { head -n 1 "$FENCED_HOME/run/pids/$VICTIM.pid"; }

# sentinel_policy <redis-policy-file> <out>: the same policies, reaching Redis through the Sentinel
# of scripts/backends.sh's master set instead of one server's URL.
sentinel_policy() {
  local node="${FENCED_SENTINEL_NODES%%,*}"
  awk -v master="${FENCED_SENTINEL_MASTER:-fenced}" -v node="$node" '
    /^ *url: redis:\/\// {
      indent = substr($0, 1, index($0, "url:") - 1)
      print indent "sentinel:"
      print indent "  masterName: " master
      print indent "  nodes: [\"" node "\"]"
      next
    }
    { print }' "$1" >"$2"
  grep -q 'masterName:' "$2" || fail "no redis url in $1 to replace with the Sentinel"
}

# The primary of the master set, whichever server it is now.
sentinel_primary_port() {
  redis-cli -p "${FENCED_SENTINEL_NODES##*:}" sentinel get-master-addr-by-name "${FENCED_SENTINEL_MASTER:-fenced}" 2>/dev/null | tail -n 1
}

# inject <policy> <fault>: the fault, start to end; sets FAULT_MS, how long the fault lasted, and
# EXTRA_MS, how much of it the goal allows on top of the lease (the backend's own downtime).
inject() {
  local key=$1 fault=$2 t0 pid
  t0=$(now_ms)
  case "$fault" in
    pause)
      pid=$(victim_pid)
      kill -STOP "$pid"
      stopped_pid=$pid
      sleep $((LEASE + 3))
      kill -CONT "$pid"
      stopped_pid=""
      FAULT_MS=$(($(now_ms) - t0)) EXTRA_MS=0
      ;;
    kill)
      kill -9 "$(victim_pid)"
      FAULT_MS=0 EXTRA_MS=0
      ;;
    restart)
      "$ROOT/scripts/backends.sh" restart "$(backend_of "$key")" >>"$cell_dir/backend-restart.log" 2>&1 ||
        fail "the backend did not come back; see $cell_dir/backend-restart.log"
      FAULT_MS=$(($(now_ms) - t0))
      EXTRA_MS=$FAULT_MS
      ;;
    failover)
      local before after
      before=$(sentinel_primary_port)
      echo "primary before: $before; fence counters there: $(redis-cli -p "$before" --scan --pattern '*:fence' 2>/dev/null | wc -l)" >>"$cell_dir/failover.log"
      kill -9 "$(head -n 1 "$FENCED_HOME/sentinel/primary.pid")"
      # The fault lasts until the Sentinel names another primary (down-after 1 s, then the vote).
      for ((i = 0; i < 300; i++)); do
        after=$(sentinel_primary_port)
        [[ "$after" != "$before" ]] && break
        sleep 0.1
      done
      echo "primary after: $after, $(($(now_ms) - t0)) ms after the kill" >>"$cell_dir/failover.log"
      [[ "$after" != "$before" ]] || fail "the Sentinel promoted no replica in 30 s; see $FENCED_HOME/sentinel/sentinel.log"
      FAULT_MS=$(($(now_ms) - t0))
      EXTRA_MS=$FAULT_MS
      ;;
    partition)
      proxy_command cut >>"$cell_dir/proxy.log"
      sleep $((LEASE + 5))
      proxy_command heal >>"$cell_dir/proxy.log"
      FAULT_MS=$(($(now_ms) - t0)) EXTRA_MS=0
      ;;
    clock)
      echo "+1h" >"$cell_dir/clock"
      sleep "$LEASE"
      echo "+0" >"$cell_dir/clock"
      FAULT_MS=$(($(now_ms) - t0)) EXTRA_MS=0
      ;;
  esac
}

# --- one cell ------------------------------------------------------------------------------------

# cell <policy> <fault>: appends one line to $OUT/cells.tsv (see the header written below).
cell() {
  local key=$1 fault=$2 file="$OUT/policies/$1.yaml" t_cell=$SECONDS
  cell_dir="$OUT/$key-$fault"
  local poll="fault-$key-$fault-$(date +%H%M%S)"
  mkdir -p "$cell_dir"
  LEASE=$(lease_seconds "$file")
  [[ "$LEASE" =~ ^[0-9]+$ && "$LEASE" -gt 0 ]] || fail "no leaseDuration in $file"
  say "[$key × $fault] starting 3 vote-api + 1 tally-worker (lease ${LEASE} s)"
  "$ROOT/scripts/local-run.sh" down >"$cell_dir/local-run.log" 2>&1
  if [[ $fault == failover ]]; then
    # Every service through the Sentinel of a fresh master set; no standalone Redis.
    sentinel_policy "$file" "$cell_dir/policy.yaml"
    file="$cell_dir/policy.yaml"
    only_backends postgres
    "$ROOT/scripts/backends.sh" restart sentinel >"$cell_dir/sentinel.log" 2>&1 ||
      fail "the Sentinel set did not start; see $cell_dir/sentinel.log"
  else
    "$ROOT/scripts/backends.sh" down sentinel >/dev/null 2>&1 || true
    # shellcheck disable=SC2046 # one backend a word
    only_backends $("$ROOT/scripts/local-run.sh" backends "$file")
  fi
  fresh_database "$FENCED_PG_DATABASE" "$TEMPLATE"
  rm -f "$FENCED_HOME/run/logs/"*.log
  prepare "$key" "$fault" "$file"
  if ! "$ROOT/scripts/local-run.sh" up "$file" --vote-replicas 3 --tally-replicas 1 >>"$cell_dir/local-run.log" 2>&1; then
    tail -n 5 "$cell_dir/local-run.log" >&2
    cp -r "$FENCED_HOME/run/logs" "$cell_dir/service-logs" 2>/dev/null || true
    stop_proxy
    printf '%s\t%s\tFAIL\tthe services did not start\n' "$key" "$fault" >>"$OUT/cells.tsv"
    return 0
  fi
  run_gatling "$cell_dir" "$poll" -Dvoters=1000000 -Dconcurrency="$CONCURRENCY" -DthinkMillis=50 \
    -DretryShare=0.1 -DwarmupSeconds=8 -DclosedLoopSeconds="$LOAD_SECONDS" -DtallyWaitSeconds=0 \
    -DmaxSeconds=$((LOAD_SECONDS + 180)) &
  load_pid=$!
  # The fault comes once the load is under way: 100 ballots in, or 10 s after the first one.
  local ballots="" answer first_at=""
  for ((i = 0; i < 240; i++)); do
    answer=$(curl -fsS -m 2 "$INGRESS_URL/api/polls/$poll/results" 2>/dev/null || true)
    ballots=$(sed -n 's/.*"ballots":\([0-9]*\).*/\1/p' <<<"$answer")
    [[ -z "$first_at" && "${ballots:-0}" -gt 0 ]] && first_at=$SECONDS
    [[ -n "$ballots" && "$ballots" -ge 100 ]] && break
    [[ -n "$first_at" ]] && ((SECONDS - first_at >= 10)) && break
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.5
  done
  if [[ -z "$first_at" ]] || ! kill -0 "$load_pid" 2>/dev/null; then
    wait "$load_pid" || true
    load_pid=""
    stop_proxy
    printf '%s\t%s\tFAIL\tthe load never got under way (ballots %s)\n' "$key" "$fault" "${ballots:-none}" >>"$OUT/cells.tsv"
    return 0
  fi
  local t_fault
  t_fault=$(now_ms)
  say "[$key × $fault] fault at $ballots ballots"
  inject "$key" "$fault"
  say "[$key × $fault] fault over after $FAULT_MS ms; the load runs on"
  local load_ok=1 t_load_end
  wait "$load_pid" || load_ok=0
  t_load_end=$(now_ms)
  load_pid=""
  local outcome=FAIL check_rc=0
  if ((load_ok)); then
    run_checker "$cell_dir" "$key" --label "$key/$fault" --wait-seconds 90 --resolve-ambiguous \
      --min-acknowledged "$MIN_ACK" >"$cell_dir/check.log" 2>&1 || check_rc=$?
    sed 's/^/    /' "$cell_dir/check.log" >&2
    outcome=$(awk '/^(PASS|FAIL) / { print $1; exit }' "$cell_dir/check.log")
    [[ -n "$outcome" ]] || outcome=FAIL
    ((check_rc == 0)) || outcome=FAIL
  else
    say "[$key × $fault] the load failed; see $cell_dir/gatling.log"
  fi
  local stale
  stale=$(vote_outcomes fence_rejected lease_lost)
  stop_proxy
  cp -r "$FENCED_HOME/run/logs" "$cell_dir/service-logs" 2>/dev/null || true
  local writes shard_writes backward repeated miscounted recovered threshold goal numbers n503 problems=()
  read -r writes shard_writes backward repeated miscounted < <(fence_audit_check "$poll")
  read -r recovered threshold < <(ballots_resumed "$poll" "$t_fault" "$t_load_end")
  goal=$(((LEASE + 2) * 1000 + EXTRA_MS))
  ((backward == 0)) || problems+=("$backward fence(s) went backward")
  ((repeated == 0)) || problems+=("$repeated token(s) repeated by another holder")
  ((miscounted == 0)) || problems+=("$miscounted counter write(s) that did not raise the count")
  ((writes > 0)) || problems+=("no counter write was logged")
  ((recovered <= goal)) || problems+=("$SLOW recovered after $recovered ms, over the goal of $goal ms")
  [[ $outcome == PASS ]] || problems+=("the invariant check: $(grep -m1 '^  - ' "$cell_dir/check.log" | sed 's/^  - //' || echo "no verdict")")
  local verdict=PASS
  local problem
  for problem in "${problems[@]-}"; do
    [[ -z "$problem" || "$problem" == "$SLOW"* ]] || verdict=FAIL
  done
  # "201=ballots=counts=tally=tallied" from the checker's numbers, and its 503 answers.
  numbers=$(grep -m1 -oE 'acknowledged=[0-9]+ ballots=[0-9]+ counted=[0-9]+ tally=[0-9]+ tallied=[0-9]+' "$cell_dir/check.log" |
    sed -E 's/[a-z]+=//g; s/ / = /g' || true)
  n503=$(grep -m1 -oE '[0-9]+ x503' "$cell_dir/check.log" | cut -d' ' -f1 || true)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$fault" "$verdict" \
    "${numbers:-?}" "$writes/$shard_writes" "$backward" "$repeated" "$miscounted" "${n503:-?}" "$stale" \
    "$recovered/$threshold" "$goal" "$FAULT_MS" "$(IFS=';'; echo "${problems[*]-}")" >>"$OUT/cells.tsv"
  say "[$key × $fault] $verdict: ${numbers:-?}; $writes counter and $shard_writes tally-shard writes, $backward backward, $repeated repeated, $miscounted not raising the count; ${n503:-?} x503, $stale stale refused; recovered after $recovered ms (goal $goal ms, pauses over $threshold ms); cell took $((SECONDS - t_cell)) s"
  ((${#problems[@]} == 0)) || printf '    - %s\n' "${problems[@]}" >&2
}

# --- the table -----------------------------------------------------------------------------------

seconds() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# table <cells.tsv>: the markdown table of the cells, and what the matrix leaves out.
table() {
  echo "| policy | fault | verdict | 201 = ballots = Σ counts = Σ tally = tallied | fenced writes (counters / tally shards): backward, repeated token, count not raised | 503 answers | stale writes refused | recovered after (goal) | fault lasted |"
  echo "|---|---|---|---|---|---|---|---|---|"
  local key fault verdict numbers writes backward repeated miscounted n503 stale recovered goal fault_ms problems over
  while IFS=$'\t' read -r key fault verdict numbers writes backward repeated miscounted n503 stale recovered goal fault_ms problems; do
    if [[ -z "${writes:-}" ]]; then
      echo "| $key | $fault | $verdict: $numbers | | | | | | |"
      continue
    fi
    over=""
    ((${recovered%/*} <= goal)) || over=" **over**"
    echo "| $key | $fault | $verdict | $numbers | $writes: $backward, $repeated, $miscounted | $n503 | $stale | $(seconds "${recovered%/*}") s ($(seconds "$goal") s)$over | $(seconds "$fault_ms") s |"
  done <"$1"
  local failed
  failed=$(awk -F'\t' '$3 != "PASS" || $14 != "" { printf "- %s × %s: %s\n", $1, $2, ($14 != "" ? $14 : $4) }' "$1")
  if [[ -n "$failed" ]]; then
    echo
    echo "Failures, and times over their goal ($SLOW, which do not fail a cell):"
    echo
    echo "$failed" | sed 's/;/; /g'
  fi
  echo
  local ran missing=()
  ran=$(cut -f1 "$1" | sort -u)
  for key in "${POLICIES[@]}"; do grep -qx "$key" <<<"$ran" || missing+=("$key"); done
  if ((${#missing[@]})); then
    echo
    echo "Not run this time (\`scripts/faults.sh --only ...\` runs them): ${missing[*]}."
  fi
  echo
  echo "Not in the matrix:"
  echo
  echo "- A failover for the backends other than Redis: PostgreSQL, etcd and ZooKeeper run as one"
  echo "  server here (etcd and ZooKeeper replicate synchronously, by quorum; a PostgreSQL standby"
  echo "  promotion is a new timeline, an incarnation the services detect, docs/incidents.md)."
  echo "- KubernetesLease: the local run has no Kubernetes API server."
  echo "- InProcess: not distributed; nothing to partition or restart."
}

write_docs() {
  local doc="$ROOT/docs/faults.md" section="$OUT/section.md"
  {
    echo "Cells: $(wc -l <"$OUT/cells.tsv"), run $(cat "$OUT/run.txt")."
    echo
    table "$OUT/cells.tsv"
  } >"$section"
  awk -v file="$section" '
    /<!-- BEGIN generated: faults -->/ { print; while ((getline line < file) > 0) print line; skip = 1; next }
    /<!-- END generated: faults -->/ { skip = 0 }
    !skip { print }' "$doc" >"$doc.tmp"
  grep -q '<!-- END generated: faults -->' "$doc.tmp" || fail "docs/faults.md has no generated section 'faults'"
  mv "$doc.tmp" "$doc"
  say "wrote the table into docs/faults.md"
}

# --- the run -------------------------------------------------------------------------------------

if [[ -n "$REPORT" ]]; then
  rmdir "$OUT"
  OUT=$(cd "$REPORT" && pwd)
  [[ -f "$OUT/cells.tsv" && -f "$OUT/run.txt" ]] || fail "no cells.tsv and run.txt in $REPORT"
  table "$OUT/cells.tsv" | tee "$OUT/table.md"
  ((WRITE_DOCS)) && write_docs
  exit 0
fi

t0=$SECONDS
backends_remember
trap cleanup EXIT
((SKIP_BUILD)) || build_all
[[ -f "$PROXY_SOURCE" ]] || fail "no $PROXY_SOURCE"
"$ROOT/scripts/backends.sh" up postgres >/dev/null 2>&1 || fail "PostgreSQL did not start; run scripts/backends.sh up postgres"
eval "$("$ROOT/scripts/backends.sh" env)"
export FENCED_PG_DATABASE="${FENCED_FAULTS_DATABASE:-fenced_faults}"
"$ROOT/scripts/policies.sh" "$OUT/policies" >/dev/null
"$ROOT/scripts/local-run.sh" down >/dev/null 2>&1
rm -rf "$FENCED_HOME/run/overrides"
TEMPLATE=$(schema_template "$FENCED_PG_DATABASE" "$OUT/policies/inprocess.yaml")
FENCED_PG_DATABASE="$TEMPLATE" fence_audit_install
: >"$OUT/cells.tsv"
echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/run.txt"
say "${#CELLS[@]} cell(s): ${CELLS[*]}; output in $OUT"
for c in "${CELLS[@]}"; do
  cell "${c%%:*}" "${c#*:}"
done
table "$OUT/cells.tsv" >"$OUT/table.md"
cat "$OUT/table.md"
((WRITE_DOCS)) && write_docs
failed=$(awk -F'\t' '$3 != "PASS"' "$OUT/cells.tsv" | wc -l)
say "${#CELLS[@]} cell(s) in $((SECONDS - t0)) s, $failed failed; output in $OUT"
((failed == 0))
