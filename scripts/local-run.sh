#!/usr/bin/env bash
# The voting system on one machine: N vote-api and M tally-worker processes from the packaged jars,
# with nginx in front as the ingress, following one LockPolicy file.
#
#   scripts/local-run.sh up <policy-file> [--vote-replicas N] [--tally-replicas M]   (defaults 3 and 2)
#   scripts/local-run.sh status
#   scripts/local-run.sh down
#   scripts/local-run.sh backends <policy-file>      the backends `up` starts for that policy
#
# Everything lives under $FENCED_HOME/run: policies/ (the LockPolicy file the services follow live),
# secrets/postgres/{username,password}, logs/, pids/, nginx/ (its own config and pid file; the system
# nginx is left alone), overrides/<name>.env (optional settings of one process, NAME=value a line). `up` is idempotent: it starts what is missing, stops replicas beyond the
# requested counts and reloads nginx with the new upstream. `down` stops exactly the processes this
# script started, by their pid files (and the backends only if `up` had to start them).
#
# Environment (defaults in brackets):
#   FENCED_INGRESS_PORT [18100]     nginx, the one address clients use
#   FENCED_VOTE_BASE_PORT [18110]   vote-api replica i listens on base + i
#   FENCED_TALLY_BASE_PORT [18130]  tally-worker replica j listens on base + j
#   FENCED_VOTE_API_JAR / FENCED_TALLY_WORKER_JAR   [<repo>/<module>/target/quarkus-app/quarkus-run.jar]
#   FENCED_JAVA_OPTS [-Xmx256m -XX:+UseSerialGC]     JVM options of every service
#   FENCED_READY_SECONDS [120]      how long to wait for /q/health/ready
#   FENCED_INGRESS_READ_TIMEOUT [8s]  how long nginx waits for a replica's answer before it takes
#                                   the replica as stopped (504, and no requests for 10 s)
#   FENCED_INGRESS_AFFINITY [none]  how nginx spreads requests over the vote-api replicas: none
#                                   (round robin) or poll (a consistent hash of the path, so every
#                                   vote of a poll goes to one replica while it is up; its lock
#                                   names then rarely cross replicas, see docs/local-run.md)
#   QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT [30S]  the migrations' connection at start (the
#                                   services' 5 s default fails on a busy machine)
#   FENCED_PG_* and the backend ports of scripts/backends.sh
#
# The services inherit the caller's environment, so every FENCED_* and TALLY_* setting they read
# (e.g. FENCED_VOTE_COUNTER=atomic, see docs/vote-api.md) reaches them. `up` remembers what each
# process was started with and restarts a running one whose settings changed. `up` starts the
# backends the policy file names, and PostgreSQL, which holds the votes; no others.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
RUN="$FENCED_HOME/run"
INGRESS_PORT="${FENCED_INGRESS_PORT:-18100}"
VOTE_BASE_PORT="${FENCED_VOTE_BASE_PORT:-18110}"
TALLY_BASE_PORT="${FENCED_TALLY_BASE_PORT:-18130}"
VOTE_API_JAR="${FENCED_VOTE_API_JAR:-$ROOT/vote-api/target/quarkus-app/quarkus-run.jar}"
TALLY_WORKER_JAR="${FENCED_TALLY_WORKER_JAR:-$ROOT/tally-worker/target/quarkus-app/quarkus-run.jar}"
JAVA_OPTS="${FENCED_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}"
READY_SECONDS="${FENCED_READY_SECONDS:-120}"
INGRESS_READ_TIMEOUT="${FENCED_INGRESS_READ_TIMEOUT:-8s}"
INGRESS_AFFINITY="${FENCED_INGRESS_AFFINITY:-none}"
MAX_REPLICAS=9

log() { printf '[local-run] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

pidfile() { echo "$RUN/pids/$1.pid"; }

# A pid file counts only while its process lives and is still the program it names (pids get reused).
alive() {
  local pf pid
  pf=$(pidfile "$1")
  [[ -f "$pf" ]] || return 1
  pid=$(head -n 1 "$pf")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  case "$1" in
    nginx) tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nginx ;;
    *) tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'quarkus-run.jar' ;;
  esac
}

pid_of() { head -n 1 "$(pidfile "$1")"; }

port_of() {
  case "$1" in
    vote-api-*) echo $((VOTE_BASE_PORT + ${1#vote-api-})) ;;
    tally-worker-*) echo $((TALLY_BASE_PORT + ${1#tally-worker-})) ;;
    nginx) echo "$INGRESS_PORT" ;;
  esac
}

# The backends a policy file's locks use (its backend types), and PostgreSQL, which holds the votes.
needed_backends() {
  echo postgres
  awk '/^ *type:/ {print $2}' "$1" | sort -u | while read -r type; do
    case "$type" in
      Redis)
        # Through a Sentinel (scripts/backends.sh's master set), or one server by its URL.
        if grep -qE '^ *sentinel:' "$1"; then echo sentinel; fi
        if grep -qE '^ *url: rediss?://' "$1"; then echo redis; fi
        ;;
      Etcd) echo etcd ;;
      ZooKeeper) echo zookeeper ;;
    esac
  done
}

ready() { curl -fsS -m 2 "http://127.0.0.1:$1/q/health/ready" >/dev/null 2>&1; }

# The PostgreSQL coordinates the services and the Postgres policies use: the caller's FENCED_PG_*,
# else what scripts/backends.sh runs.
load_backend_env() {
  local user="${FENCED_PG_USER:-}" password="${FENCED_PG_PASSWORD:-}" host="${FENCED_PG_HOST:-}" db="${FENCED_PG_DATABASE:-}"
  eval "$("$ROOT/scripts/backends.sh" env)"
  export FENCED_PG_USER="${user:-$FENCED_PG_USER}" FENCED_PG_PASSWORD="${password:-$FENCED_PG_PASSWORD}"
  export FENCED_PG_HOST="${host:-$FENCED_PG_HOST}" FENCED_PG_DATABASE="${db:-$FENCED_PG_DATABASE}"
}

prepare_run_folder() {
  local policy=$1
  mkdir -p "$RUN"/{policies,secrets/postgres,logs,pids,nginx/tmp}
  # Like a mounted kubernetes.io/basic-auth Secret: <dir>/<secret>/<key>.
  printf '%s' "$FENCED_PG_USER" >"$RUN/secrets/postgres/username"
  printf '%s' "$FENCED_PG_PASSWORD" >"$RUN/secrets/postgres/password"
  chmod 600 "$RUN/secrets/postgres/"*
  local target="$RUN/policies/policy.yaml"
  if [[ -f "$target" ]] && cmp -s "$policy" "$target"; then
    return
  fi
  if [[ -f "$target" ]] && { alive vote-api-1 || alive tally-worker-1; }; then
    log "policy changed to $policy: the running services follow it live"
    log "(a move to another backend needs a higher metadata.annotations[locks.fenced.dev/epoch], see docs/lockpolicy.md)"
  fi
  # Write then rename, so the directory watcher never reads half a file.
  cp "$policy" "$target.tmp"
  mv "$target.tmp" "$target"
  printf '%s\n' "$(realpath "$policy")" >"$RUN/policy-source"
}

# The settings a service process is started with, one NAME=value a line: every FENCED_* and
# TALLY_* variable but the ones only this script and the load scripts read.
service_env() {
  env | grep -E '^(FENCED|TALLY)_' |
    grep -vE '^FENCED_(HOME|INGRESS_[A-Z_]*|VOTE_BASE_PORT|TALLY_BASE_PORT|VOTE_API_JAR|TALLY_WORKER_JAR|READY_SECONDS|GATLING_[A-Z_]*|COMPARE_[A-Z_]*|SKIP_[A-Z_]*)=' |
    sort
}

envfile() { echo "$RUN/pids/$1.env"; }

# Settings of one process only, over the others: $RUN/overrides/<name>.env, one NAME=value a line
# (e.g. FENCED_POLICIES_DIR pointing one replica at its backend through another address, or
# LD_PRELOAD with a fake clock; scripts/faults.sh writes them).
overrides() {
  local f="$RUN/overrides/$1.env"
  [[ -f "$f" ]] && grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$f" || true
}

# What a process is started with, to notice a change: the shared settings and its own. vote-api's
# own settings (FENCED_VOTE_*) are no change to a tally-worker, which does not read them.
process_env() {
  case "$1" in
    tally-worker-*) service_env | grep -v '^FENCED_VOTE_' || true ;;
    *) service_env ;;
  esac
  overrides "$1"
}

start_service() {
  local name=$1 jar=$2 port
  port=$(port_of "$name")
  if alive "$name"; then
    if [[ -f "$(envfile "$name")" ]] && ! process_env "$name" | cmp -s - "$(envfile "$name")"; then
      log "restarting $name: its settings changed ($(process_env "$name" | diff - "$(envfile "$name")" |
        sed -n 's/^< \([A-Z_]*\)=.*/\1/p; s/^> \([A-Z_]*\)=.*/\1/p' | sort -u | paste -sd, -))"
      stop_all "$name"
    else
      return 0 # running with the same settings; a bare return would pass on the test's status
    fi
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port for $name is taken by a process this script did not start"
  fi
  log "starting $name on port $port"
  local own=()
  mapfile -t own < <(overrides "$name")
  ((${#own[@]} == 0)) || log "$name with its own settings: $(printf '%s\n' "${own[@]}" | cut -d= -f1 | paste -sd, -)"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  env QUARKUS_HTTP_PORT="$port" \
    FENCED_PG_HOST="$FENCED_PG_HOST" FENCED_PG_PORT="$FENCED_PG_PORT" \
    FENCED_PG_DATABASE="$FENCED_PG_DATABASE" FENCED_PG_USER="$FENCED_PG_USER" \
    FENCED_PG_PASSWORD="$FENCED_PG_PASSWORD" FENCED_REDIS_URL="$FENCED_REDIS_URL" \
    FENCED_POLICIES_DIR="$RUN/policies" FENCED_SECRETS_DIR="$RUN/secrets" \
    FENCED_INSTANCE="$name" \
    QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT="${QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT:-30S}" \
    "${own[@]}" nohup java $JAVA_OPTS -jar "$jar" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
  process_env "$name" >"$(envfile "$name")"
}

# Stops the named processes together: TERM to all, up to 15 s for all to exit, then KILL.
stop_all() {
  local name pid pids=() names=()
  for name in "$@"; do
    if alive "$name"; then
      pid=$(pid_of "$name")
      log "stopping $name (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    fi
  done
  for ((i = 0; i < 150; i++)); do
    local left=0
    for pid in "${pids[@]+"${pids[@]}"}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    if kill -0 "${pids[i]}" 2>/dev/null; then
      log "${names[i]} did not stop within 15 s; killing it"
      kill -9 "${pids[i]}" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$(pidfile "$name")" "$(envfile "$name")"; done
}

wait_ready() {
  local deadline=$((SECONDS + READY_SECONDS)) pending=("$@") still
  while ((${#pending[@]})); do
    still=()
    for name in "${pending[@]}"; do
      if ! alive "$name"; then
        tail -n 30 "$RUN/logs/$name.log" >&2 || true
        die "$name exited while starting; see $RUN/logs/$name.log"
      fi
      ready "$(port_of "$name")" || still+=("$name")
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS > deadline)); then
      die "not ready within ${READY_SECONDS}s: ${pending[*]}; see $RUN/logs/"
    fi
    sleep 0.5
  done
}

running_replicas() {
  local prefix=$1
  for ((i = 1; i <= MAX_REPLICAS; i++)); do
    [[ -f "$(pidfile "$prefix-$i")" ]] && echo "$prefix-$i"
  done
  return 0
}

write_nginx_conf() {
  local votes=$1 conf="$RUN/nginx/nginx.conf" servers=""
  for ((i = 1; i <= votes; i++)); do
    servers+="    server 127.0.0.1:$(port_of "vote-api-$i") max_fails=1 fail_timeout=10s;"$'\n'
  done
  local balance=""
  # Poll affinity (cmd_up checked the value): consistent (ketama) hashing of the path.
  # /api/polls/{id}/votes names the poll, so both of its lock names are taken in one replica and a
  # hold gathers every vote in flight for them. A replica marked failed (max_fails) passes its
  # polls to the next one on the ring; only then do two replicas contend for the poll's locks, and
  # the locks decide.
  [[ $INGRESS_AFFINITY == poll ]] && balance="    hash \$uri consistent;"$'\n'
  local user_line=""
  # As root, nginx would hand its workers to "nobody", who cannot write the run folder.
  [[ $(id -u) == 0 ]] && user_line="user root;"
  cat >"$conf.tmp" <<EOF
# Written by scripts/local-run.sh; the ingress of the local run.
$user_line
worker_processes 1;
# Every proxied request holds two connections (client and replica): room for a few thousand votes in
# flight when a capacity level overloads the services, instead of closing idle keep-alive
# connections under clients about to reuse them.
worker_rlimit_nofile 40000;
daemon on;
pid $RUN/pids/nginx.pid;
error_log $RUN/logs/nginx-error.log warn;

events {
  worker_connections 16384;
}

http {
  access_log off;
  client_body_temp_path $RUN/nginx/tmp/body;
  proxy_temp_path $RUN/nginx/tmp/proxy;
  fastcgi_temp_path $RUN/nginx/tmp/fastcgi;
  uwsgi_temp_path $RUN/nginx/tmp/uwsgi;
  scgi_temp_path $RUN/nginx/tmp/scgi;

  upstream vote_api {
$servers$balance    keepalive 64;
  }

  server {
    listen 127.0.0.1:$INGRESS_PORT;

    # How every location below talks to the replicas (each inherits these, having none of its own).
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_connect_timeout 1s;

    location = /nginx-health {
      return 200 "ok\n";
    }

    # The live feeds (server-sent events) stay open; an unchanged value comes again every 15 s.
    location ~ ^/api/polls/[^/]+/(results|locks)/stream\$ {
      proxy_pass http://vote_api;
      proxy_read_timeout 60s;
    }

    location / {
      proxy_pass http://vote_api;
      # A healthy replica answers a vote within the policy's maxWait (2 s in the examples), the
      # acquire's grace of 3 s and its transaction. One silent for longer is stopped (SIGSTOP, a
      # frozen JVM): the kernel still accepts its connections, so only this timeout tells. Its
      # request gets 504, an open answer the client settles by sending the vote again, and
      # max_fails=1 keeps every request off it for fail_timeout, as a failed readiness probe would
      # in Kubernetes; otherwise a closed loop's clients pile up on it for as long as it is stopped.
      proxy_read_timeout $INGRESS_READ_TIMEOUT;
      # Pass a request on to another replica only when it cannot have reached this one. Without
      # "non_idempotent" nginx never re-sends a POST once any byte of it went to a replica, so a
      # vote is never delivered twice; a replica dying mid-vote answers 502 and the client decides.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 5s;
    }
  }
}
EOF
  mv "$conf.tmp" "$conf"
}

nginx_cmd() { nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/logs/nginx-error.log" "$@"; }

start_nginx() {
  command -v nginx >/dev/null || {
    [[ $(id -u) == 0 ]] || die "nginx is missing; install the Debian package nginx"
    log "installing nginx"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null ||
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
  }
  nginx_cmd -t -q || die "nginx refused $RUN/nginx/nginx.conf"
  if alive nginx; then
    nginx_cmd -s reload
  else
    log "starting nginx on port $INGRESS_PORT"
    nginx_cmd
  fi
  for ((i = 0; i < 50; i++)); do
    curl -fsS -m 1 "http://127.0.0.1:$INGRESS_PORT/nginx-health" >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "nginx does not answer on $INGRESS_PORT; see $RUN/logs/nginx-error.log"
}

cmd_up() {
  local policy="" votes=3 tallies=2
  while (($#)); do
    case "$1" in
      --vote-replicas) votes=${2:?--vote-replicas needs a number}; shift 2 ;;
      --tally-replicas) tallies=${2:?--tally-replicas needs a number}; shift 2 ;;
      -*) die "unknown option $1" ;;
      *) [[ -z "$policy" ]] || die "one policy file only"; policy=$1; shift ;;
    esac
  done
  [[ -n "$policy" ]] || usage
  [[ -f "$policy" ]] || die "no policy file $policy"
  [[ "$votes" =~ ^[1-9]$ ]] || die "--vote-replicas must be 1..$MAX_REPLICAS, was $votes"
  [[ "$tallies" =~ ^[0-9]$ ]] || die "--tally-replicas must be 0..$MAX_REPLICAS, was $tallies"
  [[ "$INGRESS_AFFINITY" == none || "$INGRESS_AFFINITY" == poll ]] ||
    die "FENCED_INGRESS_AFFINITY must be none or poll, was '$INGRESS_AFFINITY'"
  [[ -f "$VOTE_API_JAR" ]] || die "no vote-api jar at $VOTE_API_JAR (mvn -B -DskipTests package -pl vote-api -am, or set FENCED_VOTE_API_JAR)"
  ((tallies == 0)) || [[ -f "$TALLY_WORKER_JAR" ]] ||
    die "no tally-worker jar at $TALLY_WORKER_JAR (mvn -B -DskipTests package -pl tally-worker -am, or set FENCED_TALLY_WORKER_JAR)"

  mkdir -p "$RUN/pids"
  # Remember the backends this run had to start, so that `down` stops those and no others.
  local b needed
  mapfile -t needed < <(needed_backends "$policy")
  for b in "${needed[@]}"; do
    if ! "$ROOT/scripts/backends.sh" status "$b" | grep -q ' running '; then
      grep -qx "$b" "$RUN/started-backends" 2>/dev/null || echo "$b" >>"$RUN/started-backends"
    fi
  done
  "$ROOT/scripts/backends.sh" up "${needed[@]}"
  load_backend_env
  prepare_run_folder "$policy"

  local name started=()
  local extra=()
  for name in $(running_replicas vote-api) $(running_replicas tally-worker); do
    local n=${name##*-} kind=${name%-*}
    if { [[ $kind == vote-api ]] && ((n > votes)); } || { [[ $kind == tally-worker ]] && ((n > tallies)); }; then
      extra+=("$name")
    fi
  done
  ((${#extra[@]} == 0)) || stop_all "${extra[@]}"
  for ((i = 1; i <= votes; i++)); do
    alive "vote-api-$i" || started+=("vote-api-$i")
    start_service "vote-api-$i" "$VOTE_API_JAR"
  done
  for ((i = 1; i <= tallies; i++)); do
    alive "tally-worker-$i" || started+=("tally-worker-$i")
    start_service "tally-worker-$i" "$TALLY_WORKER_JAR"
  done
  local all=()
  for ((i = 1; i <= votes; i++)); do all+=("vote-api-$i"); done
  for ((i = 1; i <= tallies; i++)); do all+=("tally-worker-$i"); done
  ((${#started[@]})) && log "waiting for ${started[*]} to be ready"
  wait_ready "${all[@]}"
  write_nginx_conf "$votes"
  start_nginx
  log "up: http://127.0.0.1:$INGRESS_PORT -> $votes vote-api (affinity $INGRESS_AFFINITY), $tallies tally-worker; policy $(policy_summary)"
}

policy_summary() {
  local f="$RUN/policies/policy.yaml"
  [[ -f "$f" ]] || { echo "-"; return; }
  local type mode
  type=$(awk '/^ *type:/ {print $2; exit}' "$f")
  mode=$(awk '/^ *mode:/ {print $2; exit}' "$f")
  echo "$type${mode:+ ($mode)} from $(cat "$RUN/policy-source" 2>/dev/null || echo "$f")"
}

cmd_down() {
  # The ingress first, so no request reaches a replica that is shutting down.
  stop_all nginx
  # shellcheck disable=SC2046
  stop_all $(running_replicas vote-api) $(running_replicas tally-worker)
  if [[ -s "$RUN/started-backends" ]]; then
    # shellcheck disable=SC2046
    "$ROOT/scripts/backends.sh" down $(cat "$RUN/started-backends")
    rm -f "$RUN/started-backends"
  fi
}

cmd_status() {
  local any=0 name state
  echo "policy: $(policy_summary)"
  for name in nginx $(running_replicas vote-api) $(running_replicas tally-worker); do
    [[ $name == nginx && ! -f "$(pidfile nginx)" ]] && continue
    any=1
    if alive "$name"; then
      state=running
      [[ $name == nginx ]] || ready "$(port_of "$name")" || state="running (not ready)"
      printf '%-15s %-20s pid %-8s http://127.0.0.1:%s\n' "$name" "$state" "$(pid_of "$name")" "$(port_of "$name")"
    else
      printf '%-15s %-20s %-12s http://127.0.0.1:%s\n' "$name" "stopped" "" "$(port_of "$name")"
    fi
  done
  ((any)) || echo "no services started (scripts/local-run.sh up <policy-file>)"
  "$ROOT/scripts/backends.sh" status
}

cmd="${1:-}"
shift || true
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  backends) [[ -f "${1:-}" ]] || die "usage: local-run.sh backends <policy-file>"; needed_backends "$1" ;;
  *) usage ;;
esac
