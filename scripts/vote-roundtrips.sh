#!/usr/bin/env bash
# What one hold of a vote lock costs the database, counted by the server: one vote-api replica from
# its jar, votes sent one at a time and then many at once, and PostgreSQL logging every protocol
# step of the service's sessions (log_min_duration_statement = 0 for the database user, reset at the
# end). Per hold it prints the statements of the vote transaction by kind (simple statements such as
# BEGIN/COMMIT, extended-protocol parses and executes), the statements outside the hold, the
# transactions committed and the Redis commands; docs/vote-api.md explains how they make round trips.
#
#   scripts/vote-roundtrips.sh [--policy redis|postgres-rowlock] [--votes 200] [--concurrency 32]
#                              [--jar <vote-api quarkus-run.jar>]
#
# Needs the backends of scripts/backends.sh (started if missing, and then stopped again) and the
# packaged jar (mvn -B -DskipTests package -pl vote-api -am). The replica listens on
# FENCED_ROUNDTRIPS_PORT [18190]. Another build's jar (--jar) gives the figures of that version, so
# two versions can be compared on the same machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"

POLICY=redis
VOTES=200
CONCURRENCY=32
JAR="$ROOT/vote-api/target/quarkus-app/quarkus-run.jar"
PORT="${FENCED_ROUNDTRIPS_PORT:-18190}"
while (($#)); do
  case "$1" in
    --policy) POLICY=${2:?}; shift 2 ;;
    --votes) VOTES=${2:?}; shift 2 ;;
    --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
    --jar) JAR=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vote-roundtrips: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[vote-roundtrips] %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}
[[ "$POLICY" == redis || "$POLICY" == postgres-rowlock ]] ||
  fail "--policy must be redis or postgres-rowlock, was $POLICY"
[[ "$VOTES" =~ ^[1-9][0-9]*$ ]] || fail "--votes must be a positive number, was $VOTES"
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || fail "--concurrency must be a positive number, was $CONCURRENCY"
[[ -f "$JAR" ]] || fail "no jar at $JAR (mvn -B -DskipTests package -pl vote-api -am, or --jar)"
command -v curl >/dev/null || fail "curl is needed"

OUT="$FENCED_HOME/roundtrips"
rm -rf "$OUT"
mkdir -p "$OUT/policies" "$OUT/secrets/postgres"

started=()
for b in redis postgres; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started+=("$b")
done
if ((${#started[@]})); then
  "$ROOT/scripts/backends.sh" up "${started[@]}" >/dev/null
fi
eval "$("$ROOT/scripts/backends.sh" env)"
PG_LOG="$FENCED_HOME/postgres/postgres.log"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql_() { PGPASSWORD="$FENCED_PG_PASSWORD" "$PG_BIN/psql" -h "$FENCED_PG_HOST" -p "$FENCED_PG_PORT" -U "$FENCED_PG_USER" -d "$FENCED_PG_DATABASE" -Atqc "$1"; }
redis_port=${FENCED_REDIS_URL##*:}
redis_port=${redis_port%%/*}

pid=""
cleanup() {
  # The replica ends on SIGTERM (status 143): not a failure, and the settings below must still be
  # reset, so nothing here may stop the clean-up.
  if [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
  fi
  psql_ "ALTER ROLE \"$FENCED_PG_USER\" RESET log_min_duration_statement" >/dev/null 2>&1 || true
  if ((${#started[@]})); then
    "$ROOT/scripts/backends.sh" down "${started[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

"$ROOT/scripts/policies.sh" "$OUT/all" >/dev/null
cp "$OUT/all/$POLICY.yaml" "$OUT/policies/"
printf '%s' "$FENCED_PG_USER" >"$OUT/secrets/postgres/username"
printf '%s' "$FENCED_PG_PASSWORD" >"$OUT/secrets/postgres/password"

# Every session of the service logs each parse, bind, execute and simple statement from now on.
psql_ "ALTER ROLE \"$FENCED_PG_USER\" SET log_min_duration_statement = 0" >/dev/null
say "starting vote-api ($JAR) on port $PORT under $POLICY"
FENCED_POLICIES_DIR="$OUT/policies" FENCED_SECRETS_DIR="$OUT/secrets" QUARKUS_HTTP_PORT="$PORT" \
  java ${FENCED_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC} -jar "$JAR" >"$OUT/vote-api.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
  curl -fs -o /dev/null "$base/q/health/ready" && break
  kill -0 "$pid" 2>/dev/null || fail "vote-api exited; see $OUT/vote-api.log"
  sleep 0.5
done
curl -fs -o /dev/null "$base/q/health/ready" || fail "vote-api not ready; see $OUT/vote-api.log"

poll="rt-$(date +%s)"
curl -fs -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"id\":\"$poll\",\"title\":\"round trips\",\"options\":[\"cat\",\"dog\"]}" "$base/api/polls"
vote() {
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    -d "{\"voter\":\"$1\",\"option\":\"cat\"}" "$base/api/polls/$poll/votes"
}
export -f vote
export base poll

holds() {
  curl -fs "$base/q/metrics" | awk '/^fenced_lock_hold_seconds_count/ { n += $2 } END { printf "%d\n", n }'
}
commits() { psql_ "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
redis_commands() {
  [[ "$POLICY" == redis ]] || { echo 0; return; }
  redis-cli -p "$redis_port" INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }'
}

# Warm up: every connection of the pool parses its statements once.
seq 1 64 | xargs -P 16 -I{} bash -c 'vote warm-{}' >/dev/null

# measure <label> <parallel>: votes sent <parallel> at a time, then the server's counts per hold.
measure() {
  local label=$1 parallel=$2 from h0 c0 r0 h1 c1 r1 to statuses
  sleep 1
  from=$(stat -c %s "$PG_LOG")
  h0=$(holds)
  c0=$(commits)
  r0=$(redis_commands)
  statuses=$(seq 1 "$VOTES" | xargs -P "$parallel" -I{} bash -c "vote $label-{}" | sort | uniq -c | awk '{ printf "%s x%s ", $1, $2 }')
  h1=$(holds)
  r1=$(redis_commands)
  c1=$(commits)
  sleep 1
  to=$(stat -c %s "$PG_LOG")
  tail -c +"$((from + 1))" "$PG_LOG" | head -c "$((to - from))" >"$OUT/$label.log"
  # The two INFO and the two pg_stat_database reads of this script are not the service's.
  local redis=0
  [[ "$POLICY" == redis ]] && redis=$((r1 - r0 - 2))
  awk -v label="$label" -v votes="$VOTES" -v holds="$((h1 - h0))" -v commits="$((c1 - c0 - 2))" \
    -v redis="$redis" -v statuses="$statuses" '
    /LOG:  duration: / {
      step = ($0 ~ / parse /) ? "parse" : ($0 ~ / bind /) ? "bind" : ($0 ~ / execute /) ? "execute" : ($0 ~ /statement: /) ? "simple" : "other"
      if ($0 ~ /pg_stat_database|pg_stat_activity/) next
      if ($0 ~ /FROM ballots WHERE poll_id = \$1 AND voter = \$2/) where = "before"
      else if ($0 ~ /fenced_row_locks|nextval|lock_timeout|pg_backend_pid|statement: SELECT 1$/) where = "lock"
      else where = "vote"
      n[where, step]++
    }
    END {
      h = holds > 0 ? holds : 1
      printf "%-12s %5d votes (%s) in %d holds: %.2f votes per hold\n", label, votes, statuses, holds, votes / h
      printf "  per hold, vote transaction: %.2f simple (BEGIN/COMMIT), %.2f parse, %.2f bind, %.2f execute\n", n["vote", "simple"] / h, n["vote", "parse"] / h, n["vote", "bind"] / h, n["vote", "execute"] / h
      printf "  per hold, lock statements (RowLock acquire/release/heartbeat): %.2f simple, %.2f execute\n", n["lock", "simple"] / h, n["lock", "execute"] / h
      printf "  per vote, before the hold (repeated-voter check): %.2f parse, %.2f execute\n", n["before", "parse"] / votes, n["before", "execute"] / votes
      printf "  per hold: %.2f transactions committed, %.2f Redis commands\n", commits / h, redis / h
    }' "$OUT/$label.log"
}

say "$VOTES votes one at a time, then $VOTES with $CONCURRENCY at a time"
measure one-by-one 1
measure concurrent "$CONCURRENCY"
say "server logs of each phase: $OUT"
