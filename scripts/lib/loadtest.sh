# Shared by scripts/compare.sh, scripts/e2e.sh and scripts/faults.sh: building what a load run
# needs, the backends a run may use, the measurement database, one Gatling run, one check, the
# report, and what a run under faults reads from the running system (leases, owners, fences). Source it; it
# expects ROOT to be set.

export FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
INGRESS_URL="http://127.0.0.1:${FENCED_INGRESS_PORT:-18100}"
VOTE_BASE_PORT="${FENCED_VOTE_BASE_PORT:-18110}"
TALLY_BASE_PORT="${FENCED_TALLY_BASE_PORT:-18130}"
export FENCED_VOTE_API_JAR="${FENCED_VOTE_API_JAR:-$ROOT/vote-api/target/quarkus-app/quarkus-run.jar}"
export FENCED_TALLY_WORKER_JAR="${FENCED_TALLY_WORKER_JAR:-$ROOT/tally-worker/target/quarkus-app/quarkus-run.jar}"
LOADTEST_CP_FILE="$ROOT/loadtest/target/loadtest.classpath"
# Gatling's JVM: Gatling's own recommended options; it reads String internals reflectively.
GATLING_JAVA_OPTS="${FENCED_GATLING_JAVA_OPTS:--Xmx1g -XX:+UseG1GC -XX:MaxInlineLevel=20 -XX:MaxTrivialSize=12}"
ALL_BACKENDS=(redis postgres etcd zookeeper)

say() { printf '[%s] %s\n' "${SCRIPT_NAME:-loadtest}" "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

# Builds the service jars (unless given through FENCED_*_JAR) and the load test with its checker,
# and writes the load test's classpath, so that Gatling and the checker run without Maven.
build_all() {
  local modules=()
  [[ "$FENCED_VOTE_API_JAR" == "$ROOT/vote-api/"* ]] && modules+=(vote-api)
  [[ "$FENCED_TALLY_WORKER_JAR" == "$ROOT/tally-worker/"* ]] && modules+=(tally-worker)
  if ((${#modules[@]})); then
    local list
    list=$(
      IFS=,
      echo "${modules[*]}"
    )
    # The services' jars need no test classes (-Dmaven.test.skip skips compiling them, a quarter
    # of the build); -T 2 packages vote-api and tally-worker side by side.
    say "building $list (mvn package -Dmaven.test.skip)"
    (cd "$ROOT" && mvn -B -q -ntp -T 2 -Dmaven.test.skip=true package -pl "$list" -am) >&2 || fail "building $list failed"
  fi
  [[ -f "$FENCED_VOTE_API_JAR" ]] || fail "no vote-api jar at $FENCED_VOTE_API_JAR"
  [[ -f "$FENCED_TALLY_WORKER_JAR" ]] || fail "no tally-worker jar at $FENCED_TALLY_WORKER_JAR"
  say "building the load test and its checker"
  (cd "$ROOT" && mvn -B -q -ntp -pl loadtest -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile="$LOADTEST_CP_FILE" -Dmdep.includeScope=test) >&2 || fail "building loadtest failed"
}

loadtest_cp() { echo "$ROOT/loadtest/target/test-classes:$ROOT/loadtest/target/classes:$(cat "$LOADTEST_CP_FILE")"; }

# run_gatling <out-dir> <poll> [-Dname=value ...]: one run of VoteSimulation through the ingress
# (see its Javadoc for the properties). Writes <out-dir>/summary.json, Gatling's report under
# <out-dir>/gatling and its output in <out-dir>/gatling.log. Gatling runs straight from the
# classpath build_all wrote: the Maven plugin would add a Maven start to every run.
run_gatling() {
  local out=$1 poll=$2
  shift 2
  mkdir -p "$out"
  # shellcheck disable=SC2086 # GATLING_JAVA_OPTS is a list of options
  timeout "${FENCED_GATLING_TIMEOUT:-900}" java $GATLING_JAVA_OPTS \
    --add-opens=java.base/java.lang=ALL-UNNAMED -cp "$(loadtest_cp)" \
    -DbaseUrl="$INGRESS_URL" -Dpoll="$poll" -Dsummary="$out/summary.json" "$@" \
    io.gatling.app.Gatling -s dev.fenced.loadtest.VoteSimulation -rf "$out/gatling" -l fenced \
    >"$out/gatling.log" 2>&1
}

# run_checker <out-dir> <policy> [checker options]; prints the verdict, returns its exit code.
run_checker() {
  local out=$1 policy=$2
  shift 2
  java -cp "$(loadtest_cp)" dev.fenced.loadtest.Checker \
    --summary "$out/summary.json" --base-url "$INGRESS_URL" --policy "$policy" "$@"
}

# run_report [CompareReport options]: the tables of a run, and the docs written from them.
run_report() { java -cp "$(loadtest_cp)" dev.fenced.loadtest.report.CompareReport "$@"; }

# metrics_urls <vote-api replicas>: the replicas' Prometheus pages, comma-separated.
metrics_urls() {
  local urls=() i
  for ((i = 1; i <= $1; i++)); do urls+=("http://127.0.0.1:$((VOTE_BASE_PORT + i))/q/metrics"); done
  (
    IFS=,
    echo "${urls[*]}"
  )
}

# --- backends ------------------------------------------------------------------------------------

# Remembers which backends run now, so that backends_restore can put things back as they were.
backends_remember() {
  BACKENDS_BEFORE=()
  local b
  for b in "${ALL_BACKENDS[@]}"; do
    "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running ' && BACKENDS_BEFORE+=("$b")
  done
  return 0
}

# Stops the backends that did not run before, starts again the ones that did.
backends_restore() {
  local b
  for b in "${ALL_BACKENDS[@]}"; do
    if [[ " ${BACKENDS_BEFORE[*]-} " == *" $b "* ]]; then
      "$ROOT/scripts/backends.sh" up "$b" >/dev/null 2>&1 || true
    else
      "$ROOT/scripts/backends.sh" down "$b" >/dev/null 2>&1 || true
    fi
  done
}

# only_backends <backend...>: exactly these run; the others are stopped, so that a row's
# measurement shares the machine with no server it does not use.
only_backends() {
  local b
  for b in "${ALL_BACKENDS[@]}"; do
    if [[ " $* " != *" $b "* ]]; then
      "$ROOT/scripts/backends.sh" down "$b" >/dev/null 2>&1 || fail "could not stop $b"
    fi
  done
  "$ROOT/scripts/backends.sh" up "$@" >/dev/null 2>&1 || fail "backends $* did not start; run scripts/backends.sh up $*"
}

# --- CPU -----------------------------------------------------------------------------------------

# tally_cpu_seconds: CPU seconds (user + system) the running tally-worker replicas have used, summed.
tally_cpu_seconds() {
  local ticks=0 pf pid
  for pf in "$FENCED_HOME"/run/pids/tally-worker-*.pid; do
    [[ -f "$pf" ]] || continue
    pid=$(head -n 1 "$pf")
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz }'
}

# redis_cpu_seconds: CPU seconds (user + system) the Redis server has used, as it reports them.
redis_cpu_seconds() {
  redis-cli -p "${FENCED_REDIS_PORT:-16379}" info cpu 2>/dev/null |
    awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.2f\n", s }'
}

# cpu_share <seconds before> <seconds after> <wall seconds>: % of one core used in between.
cpu_share() { awk -v a="$1" -v b="$2" -v w="$3" 'BEGIN { printf "%.0f\n", (w > 0 ? 100 * (b - a) / w : 0) }'; }

# --- the measurement database --------------------------------------------------------------------

# sql <statement>: runs one statement in the database the services use (FENCED_PG_DATABASE).
sql() {
  PGPASSWORD="$FENCED_PG_PASSWORD" psql -X -q -At -v ON_ERROR_STOP=1 -h "$FENCED_PG_HOST" \
    -p "$FENCED_PG_PORT" -U "$FENCED_PG_USER" -d "${FENCED_PG_DATABASE:?}" -c "$1"
}

# fresh_database <name> [template]: drops and creates the database, as a copy of the template
# when one is given.
fresh_database() {
  PGPASSWORD="$FENCED_PG_PASSWORD" PGOPTIONS='--client-min-messages=warning' psql -X -q -v ON_ERROR_STOP=1 \
    -h "$FENCED_PG_HOST" -p "$FENCED_PG_PORT" -U "$FENCED_PG_USER" -d postgres \
    -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$1\"${2:+ TEMPLATE \"$2\"}" >/dev/null ||
    fail "could not create the database $1"
}

# schema_template <database> <policy-file>: <database>_template, an empty database with the
# voting schema, made by the migrations of one vote-api started on it alone. Copying it is
# instant, and services that start together on a copy do not all race to migrate it.
schema_template() {
  local template="$1_template"
  fresh_database "$template"
  FENCED_PG_DATABASE="$template" "$ROOT/scripts/local-run.sh" up "$2" --vote-replicas 1 --tally-replicas 0 \
    >"$OUT/schema-template.log" 2>&1 || fail "the schema template did not come up; see $OUT/schema-template.log"
  "$ROOT/scripts/local-run.sh" down >>"$OUT/schema-template.log" 2>&1
  echo "$template"
}

# insert_idle_polls <from> <to>: polls idle-<from>..idle-<to> with the rows the API writes for a
# new poll (the poll, a counter per option, the tally watermark), inserted in one statement each.
insert_idle_polls() {
  sql "INSERT INTO polls (id, title, options)
         SELECT 'idle-' || g, 'An idle poll', ARRAY['cat', 'dog'] FROM generate_series($1, $2) g;
       INSERT INTO counters (poll_id, option)
         SELECT 'idle-' || g, o FROM generate_series($1, $2) g, unnest(ARRAY['cat', 'dog']) o;
       INSERT INTO tally_watermarks (poll_id) SELECT 'idle-' || g FROM generate_series($1, $2) g;" >/dev/null
}

# insert_ballots <poll> <n>: n ballots in an existing cat/dog poll, half each, with the live
# counters and their exact ballot counts raised to match, as if n voters had voted.
insert_ballots() {
  local poll=$1 n=$2
  sql "INSERT INTO ballots (poll_id, voter, option)
         SELECT '$poll', 'seeded-' || g, CASE WHEN g % 2 = 0 THEN 'cat' ELSE 'dog' END
         FROM generate_series(1, $n) g;
       UPDATE counters c SET count = c.count + s.n, ballots = c.ballots + s.n
         FROM (SELECT option, count(*) AS n FROM ballots WHERE poll_id = '$poll' AND voter LIKE 'seeded-%'
               GROUP BY option) s
         WHERE c.poll_id = '$poll' AND c.option = s.option;" >/dev/null
}

# --- runs ----------------------------------------------------------------------------------------

# write_meta <file> [key value ...]: what the run was, for the report (one "key<TAB>value" a line).
write_meta() {
  local file=$1 commit
  shift
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || commit="$commit+changes"
  {
    printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
    printf 'commit\t%s\n' "$commit"
    printf 'cores\t%s\n' "$(nproc)"
    printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    printf 'load before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'postgres fsync\t%s\n' "${FENCED_PG_FSYNC:-on}"
    while (($# >= 2)); do
      printf '%s\t%s\n' "$1" "$2"
      shift 2
    done
  } >"$file"
}

# --- the running system --------------------------------------------------------------------------

# The policy's lease in whole seconds (rounded up), e.g. "leaseDuration: 10s".
lease_seconds() {
  awk '/^ *leaseDuration:/ {
    v = $2; s = 0
    if (v ~ /ms$/) { sub(/ms$/, "", v); s = v / 1000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); s = v }
    else if (v ~ /m$/) { sub(/m$/, "", v); s = v * 60 }
    print (s == int(s)) ? s : int(s) + 1; exit }' "$1"
}
now_ms() { date +%s%3N; }

# service_port <name>: the port scripts/local-run.sh gives a vote-api or tally-worker replica.
service_port() {
  case "$1" in
    vote-api-*) echo $((VOTE_BASE_PORT + ${1#vote-api-})) ;;
    tally-worker-*) echo $((TALLY_BASE_PORT + ${1#tally-worker-})) ;;
  esac
}

# running_services: "<name> <pid>" a line for each service process local-run.sh runs.
running_services() {
  local pf
  for pf in "$FENCED_HOME"/run/pids/{vote-api,tally-worker}-*.pid; do
    [[ -f "$pf" ]] && kill -0 "$(head -n 1 "$pf")" 2>/dev/null && echo "$(basename "$pf" .pid) $(head -n 1 "$pf")"
  done
  return 0
}

# tally_workers [except]: --worker NAME=STATUS-URL for every running tally-worker but <except>.
tally_workers() {
  local pidfile name
  for pidfile in "$FENCED_HOME/run/pids"/tally-worker-*.pid; do
    name=$(basename "$pidfile" .pid)
    [[ $name == "${1:-}" ]] && continue
    printf -- '--worker %s=http://127.0.0.1:%s/api/tally/status ' "$name" "$(service_port "$name")"
  done
}

# tally_owner <poll> [TallyOwner options]: "NAME TOKEN [MILLIS]" of the tally-worker that owns the
# poll, from the workers' status: the poll itself or its shard among their holds.
tally_owner() {
  local poll=$1
  shift
  java -cp "$(loadtest_cp)" dev.fenced.loadtest.TallyOwner --poll "$poll" "$@"
}

# sample_fences <poll> <file>: every 250 ms, the fences of the poll's counters and of the tally's
# fenced rows (the poll's watermark, and the shards' rows where tally-worker owns shards), one
# "millis<TAB>row<TAB>fence" line each, until killed.
sample_fences() {
  local poll=$1 file=$2 t query
  query="SELECT 'counter ' || option, fence FROM counters WHERE poll_id = '$poll'
         UNION ALL SELECT 'watermark', fence FROM tally_watermarks WHERE poll_id = '$poll'"
  if [[ $(sql "SELECT to_regclass('tally_shards') IS NOT NULL") == t ]]; then
    query+=" UNION ALL SELECT 'shard ' || shard || ' of ' || shard_count, fence FROM tally_shards"
  fi
  while :; do
    t=$(now_ms)
    sql "$query" 2>/dev/null | sed "s/^/$t\t/; s/|/\t/" >>"$file" || true
    sleep 0.25
  done
}

# fences_only_rise <file>: prints each sample where a fence went below the one before it.
fences_only_rise() {
  awk -F'\t' '{ if (($2 in last) && $3 + 0 < last[$2]) { printf "%s fell from %s to %s at %s\n", $2, last[$2], $3, $1; bad++ }
                last[$2] = $3 + 0; n++ }
              END { if (n == 0) { print "no fence was sampled"; exit 1 } exit bad > 0 }' "$1"
}


# --- fences, as storage accepted them ------------------------------------------------------------

# fence_audit_install: in the database the services use (FENCED_PG_DATABASE), a trigger on each
# fenced table (counters, tally_shards) that writes every change of a row, as it commits with the
# write, into fence_audit: the fence and its holder before and after, and for a counter its count
# before and after. Every accepted write is there, not a sample; a rolled-back write is not.
fence_audit_install() {
  sql "CREATE TABLE IF NOT EXISTS fence_audit (
         seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
         tbl text NOT NULL, row_key text NOT NULL,
         old_fence bigint, new_fence bigint, old_holder text, new_holder text,
         old_count bigint, new_count bigint);
       CREATE OR REPLACE FUNCTION fence_audit() RETURNS trigger LANGUAGE plpgsql AS \$\$
       BEGIN
         IF TG_TABLE_NAME = 'counters' THEN
           INSERT INTO fence_audit (tbl, row_key, old_fence, new_fence, old_holder, new_holder, old_count, new_count)
           VALUES ('counters', NEW.poll_id || ' ' || NEW.option, OLD.fence, NEW.fence,
                   OLD.fence_holder, NEW.fence_holder, OLD.count, NEW.count);
         ELSE
           INSERT INTO fence_audit (tbl, row_key, old_fence, new_fence, old_holder, new_holder)
           VALUES (TG_TABLE_NAME, NEW.shard || ' of ' || NEW.shard_count, OLD.fence, NEW.fence,
                   OLD.fence_holder, NEW.fence_holder);
         END IF;
         RETURN NEW;
       END \$\$;
       DROP TRIGGER IF EXISTS counters_fence_audit ON counters;
       CREATE TRIGGER counters_fence_audit AFTER UPDATE ON counters
         FOR EACH ROW EXECUTE FUNCTION fence_audit();
       DROP TRIGGER IF EXISTS tally_shards_fence_audit ON tally_shards;
       CREATE TRIGGER tally_shards_fence_audit AFTER UPDATE ON tally_shards
         FOR EACH ROW EXECUTE FUNCTION fence_audit();" >/dev/null
}

# fence_audit_check <poll>: "counter-writes shard-writes backward repeated miscounted" over the
# audit of the poll's counters and of the tally's shards: accepted writes of each; writes whose
# fence went below the row's (backward); writes that kept the row's fence under another holder (a
# token handed out twice); counter writes that did not raise the count (a write that lost or
# replayed votes). A write may add several votes (the votes queued for one lock share one hold and
# one write); a vote counted twice shows in the invariant, Σ counts above the ballots.
fence_audit_check() {
  sql "SELECT count(*) FILTER (WHERE tbl = 'counters'),
              count(*) FILTER (WHERE tbl = 'tally_shards'),
              count(*) FILTER (WHERE new_fence < old_fence),
              count(*) FILTER (WHERE new_fence = old_fence AND old_holder IS NOT NULL
                               AND new_holder IS DISTINCT FROM old_holder),
              count(*) FILTER (WHERE tbl = 'counters' AND new_count <= old_count)
       FROM fence_audit
       WHERE (tbl = 'counters' AND row_key LIKE '$1 %') OR tbl = 'tally_shards'" | tr '|' ' '
}

# ballots_resumed <poll> <since-millis> [<until-millis>]: "<millis> <threshold>": from <since> to
# the end of the last pause in the poll's recorded ballots (any option) longer than the threshold
# (0: none after <since>). The threshold is a second, or the longest pause in the 10 s before
# <since> if that was longer (on a busy machine votes come slowly even without a fault). A ballot's
# time is its transaction's start, i.e. right after its vote got the lock.
#
# With <until> (the load's end), ballots after it are left out: the checker sends the votes a fault
# left without an answer again once the load is over, and their ballots come after a pause that is
# not the system's. A load whose ballots stopped more than the threshold + 10 s (the load's own
# wind-down) before <until> never recovered within it: the answer is then <until> - <since>.
ballots_resumed() {
  local until="${3:-}" within="" stalled="false"
  if [[ -n "$until" ]]; then
    within="WHERE t <= $until"
    stalled="(SELECT max(t) FROM b WHERE t <= $until) < $until - 10000 - th.ms"
  fi
  sql "WITH b AS (SELECT option, (extract(epoch FROM cast_at) * 1000)::bigint AS t
                  FROM ballots WHERE poll_id = '$1'),
            g AS (SELECT t, t - lag(t) OVER (PARTITION BY option ORDER BY t) AS gap FROM b $within),
            th AS (SELECT greatest(1000, coalesce(max(gap) FILTER (WHERE t <= $2 AND t > $2 - 10000), 0)) AS ms FROM g)
       SELECT CASE WHEN $stalled THEN ${until:-0} - $2
              ELSE greatest(0, coalesce(max(g.t) FILTER (WHERE g.gap > th.ms AND g.t > $2), $2) - $2) END,
              th.ms
       FROM g, th GROUP BY th.ms" | tr '|' ' '
}

# vote_outcomes <outcome...>: the sum of fenced_votes_total of those outcomes over the running
# vote-api replicas (a killed replica's count is gone with it).
vote_outcomes() {
  local pidfile name total=0 n
  for pidfile in "$FENCED_HOME/run/pids"/vote-api-*.pid; do
    [[ -f "$pidfile" ]] || continue
    name=$(basename "$pidfile" .pid)
    n=$(curl -fsS -m 5 "http://127.0.0.1:$((VOTE_BASE_PORT + ${name##*-}))/q/metrics" 2>/dev/null |
      awk -v want=" $* " '/^fenced_votes_total\{/ {
          match($0, /outcome="[^"]*"/); o = substr($0, RSTART + 9, RLENGTH - 10)
          if (index(want, " " o " ")) s += $NF }
        END { printf "%d", s }') || n=0
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
