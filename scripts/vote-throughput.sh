#!/usr/bin/env bash
# Votes per second of one vote-api replica, side by side in one run: the atomic counter (no lock),
# the lock with combining (one hold serves every vote queued for it) and the lock with one hold per
# vote. Each mode starts its own replica from the jar, warms it up, then wrk sends fresh voters
# (half cat, half dog) on N connections for a fixed time; every vote goes to the same poll, so the
# two option locks are as contended as they get. Prints votes/s (201 answers only), p50, p99 and the
# non-201 answers per mode, then the poll's results. One machine, one run: read the ratios, not the
# absolute numbers.
#
#   scripts/vote-throughput.sh [--policy redis|postgres-rowlock|...] [--seconds 15]
#                              [--connections 32] [--modes atomic,combining,single]
#                              [--jar <vote-api quarkus-run.jar>]
#
# Needs wrk (Debian package wrk), the backends of scripts/backends.sh (started if missing, and then
# stopped again) and the packaged jar (mvn -B -DskipTests package -pl vote-api -am). The replica
# listens on FENCED_THROUGHPUT_PORT [18191]. The policy is one of the files scripts/policies.sh
# writes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"

POLICY=redis
SECONDS_EACH=15
CONNECTIONS=32
MODES=atomic,combining,single
JAR="$ROOT/vote-api/target/quarkus-app/quarkus-run.jar"
PORT="${FENCED_THROUGHPUT_PORT:-18191}"
while (($#)); do
  case "$1" in
    --policy) POLICY=${2:?}; shift 2 ;;
    --seconds) SECONDS_EACH=${2:?}; shift 2 ;;
    --connections) CONNECTIONS=${2:?}; shift 2 ;;
    --modes) MODES=${2:?}; shift 2 ;;
    --jar) JAR=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vote-throughput: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[vote-throughput] %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}
[[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]] || fail "--seconds must be a positive number, was $SECONDS_EACH"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || fail "--connections must be a positive number, was $CONNECTIONS"
[[ -f "$JAR" ]] || fail "no jar at $JAR (mvn -B -DskipTests package -pl vote-api -am, or --jar)"
command -v wrk >/dev/null || fail "wrk is needed (apt-get install wrk)"
command -v curl >/dev/null || fail "curl is needed"
IFS=, read -r -a modes <<<"$MODES"
for m in "${modes[@]}"; do
  [[ "$m" == atomic || "$m" == combining || "$m" == single ]] ||
    fail "--modes takes atomic, combining and single, was $m"
done

OUT="$FENCED_HOME/throughput"
rm -rf "$OUT"
mkdir -p "$OUT/policies" "$OUT/secrets/postgres"

"$ROOT/scripts/policies.sh" "$OUT/all" >/dev/null
[[ -f "$OUT/all/$POLICY.yaml" ]] ||
  fail "--policy $POLICY: no such policy file (have: $(ls "$OUT/all" | sed 's/\.yaml$//' | tr '\n' ' '))"
cp "$OUT/all/$POLICY.yaml" "$OUT/policies/"

started=()
for b in redis postgres etcd zookeeper; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started+=("$b")
done
if ((${#started[@]})); then
  "$ROOT/scripts/backends.sh" up "${started[@]}" >/dev/null
fi
eval "$("$ROOT/scripts/backends.sh" env)"
printf '%s' "$FENCED_PG_USER" >"$OUT/secrets/postgres/username"
printf '%s' "$FENCED_PG_PASSWORD" >"$OUT/secrets/postgres/password"

pid=""
stop_replica() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
cleanup() {
  stop_replica
  if ((${#started[@]})); then
    "$ROOT/scripts/backends.sh" down "${started[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# run <mode>: one replica in that mode, warmed up, then measured.
run() {
  local mode=$1 counter=locked combining=true
  case "$mode" in
    atomic) counter=atomic ;;
    single) combining=false ;;
  esac
  FENCED_POLICIES_DIR="$OUT/policies" FENCED_SECRETS_DIR="$OUT/secrets" QUARKUS_HTTP_PORT="$PORT" \
    FENCED_VOTE_COUNTER=$counter FENCED_VOTE_COMBINING_ENABLED=$combining \
    java ${FENCED_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC} -jar "$JAR" >"$OUT/vote-api-$mode.log" 2>&1 &
  pid=$!
  local base="http://127.0.0.1:$PORT"
  for _ in $(seq 1 240); do
    curl -fs -o /dev/null "$base/q/health/ready" && break
    kill -0 "$pid" 2>/dev/null || fail "vote-api exited; see $OUT/vote-api-$mode.log"
    sleep 0.5
  done
  curl -fs -o /dev/null "$base/q/health/ready" || fail "vote-api not ready; see $OUT/vote-api-$mode.log"
  local poll stamp
  stamp=$(date +%s)
  for p in "tp-$mode-warm-$stamp" "tp-$mode-$stamp"; do
    curl -fs -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"id\":\"$p\",\"title\":\"throughput\",\"options\":[\"cat\",\"dog\"]}" "$base/api/polls"
  done
  poll="tp-$mode-$stamp"
  # Warm-up on a poll of its own: the JIT and every pooled connection, not counted.
  wrk -t 2 -c "$CONNECTIONS" -d 5s -s "$ROOT/scripts/lib/fresh-votes.lua" "$base/api/polls/tp-$mode-warm-$stamp/votes" \
    -- warm >/dev/null
  wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_EACH}s" -s "$ROOT/scripts/lib/fresh-votes.lua" "$base/api/polls/$poll/votes" -- run \
    | tee "$OUT/wrk-$mode.txt" | awk -v mode="$mode" '/^RESULT/ {
        printf "%-10s %9.0f %8.1f %8.1f %9d %9d\n", mode, $3, $4, $5, $6, $7 }'
  local results
  results=$(curl -fs "$base/api/polls/$poll/results")
  printf '  results: %s\n' "$results"
  stop_replica
}

say "policy $POLICY, one replica, $CONNECTIONS connections, ${SECONDS_EACH}s per mode after a 5s warm-up"
printf '%-10s %9s %8s %8s %9s %9s\n' mode "votes/s" "p50 ms" "p99 ms" "non-2xx" "sockerr"
for m in "${modes[@]}"; do
  run "$m"
done
say "wrk output and service logs: $OUT"
