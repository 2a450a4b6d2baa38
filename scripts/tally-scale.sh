#!/usr/bin/env bash
# How the tally keeps up with idle polls in the database: for each count of idle polls (inserted
# with SQL, each with two ballots already folded), 3 vote-api + 2 tally-worker under the Redis
# policy, a Gatling load on one new poll through nginx, then the time from the load's last ballot
# until tallied = ballots (both seen by sampling the poll's results every 200 ms), the largest
# fenced_tally_lag_seconds the workers reported during the load, and the CPU of the two
# tally-workers and of Redis, idle and under load.
#
#   scripts/tally-scale.sh [--idle "0 10000 100000"] [--voters 2000] [--concurrency 32] [--no-build]
#
# A measurement, not a test: numbers on a shared or busy machine show a direction only. Output in
# $FENCED_HOME/tally-scale/<time>/ (one folder per count, with the service logs) and a table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=tally-scale
# shellcheck source=lib/loadtest.sh
source "$ROOT/scripts/lib/loadtest.sh"

IDLE_COUNTS="0 10000 100000"
VOTERS=2000
CONCURRENCY=32
IDLE_SECONDS=10
BUILD=1
while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --idle) IDLE_COUNTS=${2:?}; shift 2 ;;
    --voters) VOTERS=${2:?}; shift 2 ;;
    --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done
for n in $IDLE_COUNTS; do [[ "$n" =~ ^[0-9]+$ ]] || fail "--idle takes counts of polls, was '$n'"; done
[[ "$VOTERS" =~ ^[1-9][0-9]*$ ]] || fail "--voters must be a positive number, was $VOTERS"
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || fail "--concurrency must be a positive number, was $CONCURRENCY"

# Five JVMs starting at once on a busy 2-core machine can take longer than the default 5 s to open
# their first JDBC connection (for the migrations); the services inherit this.
export QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT="${QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT:-60s}"

OUT="$FENCED_HOME/tally-scale/$(date +%Y%m%d-%H%M%S)"
ROWS="$OUT/rows.tsv"
mkdir -p "$OUT"
TALLY_BASE_PORT="${FENCED_TALLY_BASE_PORT:-18130}"

started_backends=()
for b in redis postgres; do
  "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' || started_backends+=("$b")
done
cleanup() {
  "$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true
  if ((${#started_backends[@]})); then
    "$ROOT/scripts/backends.sh" down "${started_backends[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if ((BUILD)); then
  build_all
else
  [[ -f "$FENCED_VOTE_API_JAR" && -f "$FENCED_TALLY_WORKER_JAR" && -f "$CHECKER_CP_FILE" ]] ||
    fail "--no-build needs the service jars and the load test built (run once without it)"
fi
"$ROOT/scripts/backends.sh" up redis postgres >/dev/null 2>&1 || fail "redis and postgres did not start"
eval "$("$ROOT/scripts/backends.sh" env)"
POLICY=$("$ROOT/scripts/policies.sh" "$OUT/policies" | grep '/redis.yaml$')

sql() {
  PGPASSWORD="$FENCED_PG_PASSWORD" psql -qtAX -v ON_ERROR_STOP=1 -h "$FENCED_PG_HOST" \
    -p "$FENCED_PG_PORT" -U "$FENCED_PG_USER" -d "$FENCED_PG_DATABASE" -c "$1"
}


# The largest fenced_tally_lag_seconds of the tally-workers, sampled every half second until the
# file $1 exists; printed at the end.
sample_lag() {
  local stop=$1 max=0 v
  until [[ -f "$stop" ]]; do
    for port in $((TALLY_BASE_PORT + 1)) $((TALLY_BASE_PORT + 2)); do
      v=$(curl -fsS "http://127.0.0.1:$port/q/metrics" 2>/dev/null |
        awk '/^fenced_tally_lag_seconds/ {print $2}' | head -n 1)
      [[ -n "$v" ]] && max=$(echo "if ($v > $max) $v else $max" | bc)
    done
    sleep 0.5
  done
  printf '%.1f\n' "$max"
}

# Samples "epoch-millis ballots tallied" of the poll's results every 200 ms until the file $2 exists.
watch_results() {
  local poll=$1 stop=$2 r
  until [[ -f "$stop" ]]; do
    r=$(curl -fsS "$INGRESS_URL/api/polls/$poll/results" 2>/dev/null || true)
    if [[ -n "$r" ]]; then
      printf '%s %s\n' "$(date +%s%3N)" "$(jq -r '"\(.ballots) \(.tallied)"' <<<"$r" 2>/dev/null)"
    fi
    sleep 0.2
  done
}

stamp=$(date +%H%M%S)
for idle in $IDLE_COUNTS; do
  dir="$OUT/idle-$idle"
  mkdir -p "$dir"
  "$ROOT/scripts/local-run.sh" down >"$dir/local-run.log" 2>&1
  say "$idle idle polls: inserting them with SQL"
  sql "DELETE FROM ballots WHERE poll_id LIKE 'idle-%';
       DELETE FROM tallies WHERE poll_id LIKE 'idle-%';
       DELETE FROM tally_watermarks WHERE poll_id LIKE 'idle-%';
       DELETE FROM counters WHERE poll_id LIKE 'idle-%';
       DELETE FROM polls WHERE id LIKE 'idle-%';"
  # Polls as a long-lived deployment has them: two ballots each, counted and folded long ago.
  sql "INSERT INTO polls (id, title, options)
         SELECT 'idle-' || g, 'idle', '{cat,dog}' FROM generate_series(1, $idle) g;
       INSERT INTO ballots (poll_id, voter, option)
         SELECT 'idle-' || g, v, o FROM generate_series(1, $idle) g,
           (VALUES ('v1', 'cat'), ('v2', 'dog')) AS t(v, o);
       INSERT INTO counters (poll_id, option, count)
         SELECT 'idle-' || g, o, 1 FROM generate_series(1, $idle) g, unnest('{cat,dog}'::text[]) o;
       INSERT INTO tallies (poll_id, option, count)
         SELECT 'idle-' || g, o, 1 FROM generate_series(1, $idle) g, unnest('{cat,dog}'::text[]) o;"
  sql "INSERT INTO tally_watermarks (poll_id, horizon, tallied)
         SELECT 'idle-' || g, pg_snapshot_xmin(pg_current_snapshot()), 2
         FROM generate_series(1, $idle) g;
       UPDATE tally_shards SET horizon = greatest(horizon,
         pg_snapshot_xmin(pg_current_snapshot())::text::bigint);"
  sql "VACUUM ANALYZE"
  say "$idle idle polls: starting 3 vote-api + 2 tally-worker (Redis)"
  rm -f "$FENCED_HOME/run/logs/"*.log
  "$ROOT/scripts/local-run.sh" up "$POLICY" --vote-replicas 3 --tally-replicas 2 >>"$dir/local-run.log" 2>&1 ||
    fail "the services did not start; see $dir/local-run.log"
  sleep 5 # the workers take their shards and catch up
  c0=$(tally_cpu_seconds) r0=$(redis_cpu_seconds)
  sleep "$IDLE_SECONDS"
  c1=$(tally_cpu_seconds) r1=$(redis_cpu_seconds)

  poll="scale-$stamp-$idle"
  say "$idle idle polls: $VOTERS voters on poll $poll, $CONCURRENCY at a time"
  rm -f "$dir/stop"
  sample_lag "$dir/stop" >"$dir/max-lag" &
  sampler=$!
  watch_results "$poll" "$dir/stop" >"$dir/results.tsv" &
  watcher=$!
  t0=$(date +%s.%N)
  run_gatling "$dir" "$poll" "$VOTERS" "$CONCURRENCY" 0 || fail "the load run failed; see $dir/gatling.log"
  t1=$(date +%s.%N)
  c2=$(tally_cpu_seconds) r2=$(redis_cpu_seconds)
  # Until tallied = ballots, at most two minutes.
  for _ in $(seq 1 600); do
    last=$(tail -n 1 "$dir/results.tsv" 2>/dev/null || true)
    read -r _ b t <<<"$last"
    [[ -n "${b:-}" && "$b" == "${t:-}" && "$b" != 0 ]] && break
    sleep 0.2
  done
  touch "$dir/stop"
  wait "$sampler" "$watcher" || true
  # The load's last ballot: the first sample that saw the final count; the tally caught up at the
  # first sample whose tallied reached it.
  read -r ballots caught_up < <(awk '{ t[NR] = $1; b[NR] = $2; d[NR] = $3 } END {
      final = b[NR]; for (i = 1; i <= NR; i++) if (b[i] == final) { s = t[i]; break }
      for (i = 1; i <= NR; i++) if (d[i] == final) { e = t[i]; break }
      if (e == "") print final, "-"; else printf "%d %.1f\n", final, (e > s ? e - s : 0) / 1000 }' "$dir/results.tsv")
  votes_per_s=$(jq -r 'if .durationMillis > 0 then (.votes.created / (.durationMillis / 1000) | floor) else empty end' \
    "$dir/summary.json" 2>/dev/null || true)
  load_s=$(echo "$t1 - $t0" | bc)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$idle" "${votes_per_s:--}" "${ballots:--}" \
    "${caught_up:--}" "$(cat "$dir/max-lag")" "$(cpu_share "$c0" "$c1" "$IDLE_SECONDS")" \
    "$(cpu_share "$c1" "$c2" "$load_s")" "$(cpu_share "$r0" "$r1" "$IDLE_SECONDS")" \
    "$(cpu_share "$r1" "$r2" "$load_s")" >>"$ROWS"
  cp -r "$FENCED_HOME/run/logs" "$dir/service-logs" 2>/dev/null || true
done
"$ROOT/scripts/local-run.sh" down >/dev/null 2>&1 || true

echo
echo "tally-worker with idle polls: $VOTERS voters, $CONCURRENCY concurrent, 3 vote-api + 2 tally-worker, Redis ($(nproc) cores)"
{
  printf 'idle polls\tvotes/s\tballots\ttallied after load (s)\tmax lag (s)\ttally-workers CPU idle %%\tunder load %%\tRedis CPU idle %%\tunder load %%\n'
  cat "$ROWS"
} | column -t -s $'\t'
echo "CPU: % of one core, both tally-workers together; output in $OUT"
