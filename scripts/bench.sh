#!/usr/bin/env bash
# The lock benchmarks: fenced next to the libraries people use instead and next to each backend's
# raw round trips, on the local servers, in one run; then the report docs/choosing-a-lock.md.
#
#   scripts/bench.sh            full run (~15 min on 2 cores): builds, starts the backends with
#                               PostgreSQL fsync on, runs every target, writes
#                               docs/bench/{results,handoff,meta}-<stamp>.json and regenerates the report
#   scripts/bench.sh --focus    the rows the goals hinge on (Redis against Redisson; etcd, ZooKeeper and
#                               Postgres/LockTable against their peer and limit) with 2 forks × 5
#                               iterations after 4 warm-up iterations of 3 s (a fork of the fenced
#                               etcd target was still getting faster after 2 s), and 1000 hand-offs
#                               in 5 blocks, so every ratio has an error bar (~27 min on 2 cores);
#                               results in docs/bench/focus/, shown in the report's "Error bars" section
#   scripts/bench.sh --smoke    a few seconds per benchmark on a subset, results and report under
#                               benchmarks/target/bench-smoke/ (nothing in docs/ changes); CI runs it
#   scripts/bench.sh report     regenerate docs/choosing-a-lock.md and its charts from the newest results
#
# Options: --no-build (use what `mvn package` already built), --modes sample|thrpt,sample
# (default sample: cycles/s are then threads ÷ mean cycle time), --targets a,b,c (JMH and hand-off
# subset; ids in benchmarks/.../Targets.java). Extra JMH options: BENCH_JMH_ARGS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

smoke=0 focus=0 build=1 report_only=0 modes=sample targets=""
focus_targets=fenced-redis,redisson-rlock,limit-redis,fenced-pg-locktable,spring-jdbc,limit-pg
focus_targets+=,fenced-etcd,jetcd-lock,limit-etcd,fenced-zookeeper,curator-mutex,limit-zookeeper
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --focus) focus=1 ;;
    --no-build) build=0 ;;
    --modes) modes="$2"; shift ;;
    --targets) targets="$2"; shift ;;
    report) report_only=1 ;;
    *) echo "bench.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[bench] %s\n' "$*" >&2; }
classpath() { echo "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)"; }

generate_report() { # results-file out-file charts-dir
  java -cp "$(classpath)" dev.fenced.bench.Report \
    --results "$1" --out "$2" --charts "$3" \
    --template docs/bench/choosing-a-lock.template.md --correctness docs/bench/correctness.tsv \
    --profile docs/bench/profile-notes.md --focus docs/bench/focus
}

if ((build)); then
  log "building the benchmarks module"
  mvn -B -q -ntp -pl benchmarks -am package -DskipTests
fi
[[ -f benchmarks/target/bench.classpath ]] || { log "benchmarks/target/bench.classpath missing: build first"; exit 1; }

if ((report_only)); then
  generate_report docs/bench docs/choosing-a-lock.md docs/bench
  exit 0
fi

# Benchmarks claim durability: PostgreSQL flushes every commit unless this is a smoke run.
if ((!smoke)); then
  export FENCED_PG_FSYNC=on
fi
scripts/backends.sh up
eval "$(scripts/backends.sh env)"
pg_fsync() {
  PGPASSWORD="$FENCED_PG_PASSWORD" psql -qtAX -h "$FENCED_PG_HOST" -p "$FENCED_PG_PORT" \
    -U "$FENCED_PG_USER" -d "$FENCED_PG_DATABASE" -c 'SHOW fsync' 2>/dev/null || echo unknown
}
if ((!smoke)) && [[ "$(pg_fsync)" != on ]]; then
  log "PostgreSQL runs with fsync=$(pg_fsync); restarting it with fsync on"
  scripts/backends.sh down postgres
  scripts/backends.sh up postgres
fi

stamp=$(date -u +%Y-%m-%dT%H%M)
if ((smoke)); then
  dir=benchmarks/target/bench-smoke
  report=$dir/choosing-a-lock.md
  jmh_time=(-wi 0 -i 1 -r 1s -f 1)
  : "${targets:=fenced-redis,redisson-rlock,limit-redis,fenced-pg-locktable}"
  handoff_args=(--rounds 20 --warmup 3 --seconds 5)
  handoff_targets=fenced-redis,redisson-rlock
elif ((focus)); then
  dir=docs/bench/focus
  report=docs/choosing-a-lock.md
  jmh_time=(-wi 4 -w 3s -i 5 -r 3s -f 2)
  : "${targets:=$focus_targets}"
  handoff_args=(--rounds 1000 --warmup 300 --seconds 60)
  handoff_targets=fenced-redis,redisson-rlock
else
  dir=docs/bench
  report=docs/choosing-a-lock.md
  jmh_time=(-wi 1 -w 2s -i 2 -r 3s -f 1)
  handoff_args=(--rounds 200 --warmup 20 --seconds 15)
  handoff_targets=$targets
fi
mkdir -p "$dir"
results=$dir/results-$stamp.json
jmh_params=()
[[ -n "$targets" ]] && jmh_params=(-p "target=$targets")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
log "JMH (${modes}) -> $results (full output: benchmarks/target/bench-jmh.log)"
# A smoke run fails on the first broken benchmark; a full run measures everything it can.
jmh_status=0
# shellcheck disable=SC2086
java -cp "$(classpath)" org.openjdk.jmh.Main 'dev.fenced.bench.LockCycles' \
  -bm "$modes" -tu ms "${jmh_time[@]}" "${jmh_params[@]}" -foe "$( ((smoke)) && echo true || echo false)" \
  -rf json -rff "$results" ${BENCH_JMH_ARGS:-} >benchmarks/target/bench-jmh.log 2>&1 || jmh_status=$?
grep -E '^(Benchmark|LockCycles\.[a-z]+ )|<failure>|Exception' benchmarks/target/bench-jmh.log || true
if ((jmh_status != 0)); then
  log "JMH exited with $jmh_status; see benchmarks/target/bench-jmh.log"
  ((smoke)) && exit "$jmh_status"
fi

log "hand-off -> $dir/handoff-$stamp.json"
# shellcheck disable=SC2086
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$(classpath)" dev.fenced.bench.HandOff \
  --out "$dir/handoff-$stamp.json" "${handoff_args[@]}" ${handoff_targets//,/ }

cat > "$dir/meta-$stamp.json" <<JSON
{
  "run": "$( ((smoke)) && echo smoke || { ((focus)) && echo focus || echo full; } )",
  "measured at (UTC)": "$stamp",
  "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "machine": "$(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, $(uname -sr)",
  "Java": "$(java -version 2>&1 | head -n 1 | tr -d '"')",
  "load average before / after (1, 5, 15 min)": "$load_before / $(cut -d' ' -f1-3 /proc/loadavg)",
  "wall time": "$(( $(date +%s) - start )) s for JMH and hand-off",
  "PostgreSQL fsync": "$(pg_fsync)",
  "servers": "Redis, PostgreSQL, etcd, ZooKeeper from scripts/backends.sh on loopback; the Lease targets on the Fabric8 mock API server in the benchmark JVM (not a real API server)"
}
JSON
if ((focus)); then
  # The focus run adds its section to the report of the newest full run.
  generate_report docs/bench "$report" docs/bench
else
  generate_report "$results" "$report" "$dir"
fi
log "done: $report"
