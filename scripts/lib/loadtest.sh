# Shared by scripts/compare.sh and scripts/e2e.sh: building what a load run needs, one Gatling run,
# one check. Source it; it expects ROOT to be set.

export FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
INGRESS_URL="http://127.0.0.1:${FENCED_INGRESS_PORT:-18100}"
export FENCED_VOTE_API_JAR="${FENCED_VOTE_API_JAR:-$ROOT/vote-api/target/quarkus-app/quarkus-run.jar}"
export FENCED_TALLY_WORKER_JAR="${FENCED_TALLY_WORKER_JAR:-$ROOT/tally-worker/target/quarkus-app/quarkus-run.jar}"
CHECKER_CP_FILE="$ROOT/loadtest/target/checker.classpath"

say() { printf '[%s] %s\n' "${SCRIPT_NAME:-loadtest}" "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

# Builds the service jars (unless given through FENCED_*_JAR) and the load test with its checker.
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
    say "building $list (mvn package -DskipTests)"
    (cd "$ROOT" && mvn -B -q -ntp -DskipTests package -pl "$list" -am) >&2 || fail "building $list failed"
  fi
  [[ -f "$FENCED_VOTE_API_JAR" ]] || fail "no vote-api jar at $FENCED_VOTE_API_JAR"
  [[ -f "$FENCED_TALLY_WORKER_JAR" ]] || fail "no tally-worker jar at $FENCED_TALLY_WORKER_JAR"
  say "building the load test and its checker"
  (cd "$ROOT" && mvn -B -q -ntp -pl loadtest -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CHECKER_CP_FILE" -Dmdep.includeScope=runtime) >&2 || fail "building loadtest failed"
}

# run_gatling <out-dir> <poll> <voters> <concurrency> <retry-share> [more -D options]
# Writes <out-dir>/summary.json, Gatling's report under <out-dir>/gatling, its output in <out-dir>/gatling.log.
run_gatling() {
  local out=$1 poll=$2 voters=$3 concurrency=$4 share=$5
  shift 5
  mkdir -p "$out"
  (cd "$ROOT" && timeout "${FENCED_GATLING_TIMEOUT:-900}" mvn -B -ntp -pl loadtest gatling:test \
    -DbaseUrl="$INGRESS_URL" -Dpoll="$poll" -Dvoters="$voters" -Dconcurrency="$concurrency" \
    -DretryShare="$share" -Dsummary="$out/summary.json" -Dgatling.resultsFolder="$out/gatling" "$@") \
    >"$out/gatling.log" 2>&1
}

# run_checker <out-dir> <policy-label> [checker options]; prints the verdict, returns its exit code.
run_checker() {
  local out=$1 policy=$2
  shift 2
  java -cp "$ROOT/loadtest/target/classes:$(cat "$CHECKER_CP_FILE")" dev.fenced.loadtest.Checker \
    --summary "$out/summary.json" --base-url "$INGRESS_URL" --policy "$policy" \
    --gatling-results "$out/gatling" "$@"
}
