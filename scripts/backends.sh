#!/usr/bin/env bash
# Local lock backends as plain processes: Redis, PostgreSQL, etcd and ZooKeeper.
#
#   scripts/backends.sh up     [redis|postgres|etcd|zookeeper ...]   install what is missing, start, wait until ready
#   scripts/backends.sh status [...]                                 what runs where
#   scripts/backends.sh down   [...]                                 stop what this script started (by pid)
#   scripts/backends.sh env                                          the FENCED_* variables the tests and services read
#
# Everything lives under $FENCED_HOME (default: <repo>/.fenced, git-ignored). Ports avoid the system
# services' defaults. Idempotent: `up` on a running backend only checks it; `down` on a stopped one does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
REDIS_PORT="${FENCED_REDIS_PORT:-16379}"
PG_PORT="${FENCED_PG_PORT:-15432}"
ETCD_PORT="${FENCED_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${FENCED_ETCD_PEER_PORT:-12380}"
ZK_PORT="${FENCED_ZK_PORT:-12181}"
PG_USER=fenced
PG_PASSWORD=fenced
PG_DB=fenced
# FENCED_PG_FSYNC=off trades durability for speed in test runs; benchmarks keep the default (on).
PG_FSYNC="${FENCED_PG_FSYNC:-on}"
ALL=(redis postgres etcd zookeeper)

log() { printf '[backends] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" ]] || return 1
  echo "$dir"
}

need_packages() {
  local missing=()
  for b in "$@"; do
    case "$b" in
      redis) command -v redis-server >/dev/null || missing+=(redis-server redis-tools) ;;
      postgres) pg_bin >/dev/null || missing+=(postgresql) ;;
      etcd) command -v etcd >/dev/null || missing+=(etcd-server etcd-client) ;;
      zookeeper) [[ -f /usr/share/java/zookeeper.jar ]] || missing+=(zookeeper) ;;
    esac
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    [[ $(id -u) == 0 ]] || die "need root to apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

pidfile() { echo "$FENCED_HOME/$1/$1.pid"; }

running() {
  local pf
  pf=$(pidfile "$1")
  [[ -f "$pf" ]] && kill -0 "$(head -n 1 "$pf")" 2>/dev/null
}

wait_until() {
  local what=$1 tries=$2
  shift 2
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not become ready; see $FENCED_HOME/$what/$what.log"
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

redis_ready() { [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
etcd_ready() { [[ "$(curl -fsS "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null)" == *'"health":"true"'* ]]; }
zk_ready() { [[ "$(exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf ruok >&3 && timeout 1 cat <&3)" == imok ]]; }

start_redis() {
  local dir="$FENCED_HOME/redis"
  mkdir -p "$dir"
  # AOF with fsync every second: a restart keeps the keys and the fence counters (see docs/backends.md).
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" \
    --daemonize yes --pidfile "$(pidfile redis)" --logfile "$dir/redis.log" \
    --appendonly yes --appendfsync everysec --save '' --protected-mode no \
    --maxclients 10000
  wait_until redis 50 redis_ready
}

start_postgres() {
  local dir="$FENCED_HOME/postgres" bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    local pw="$dir/.pw"
    printf '%s\n' "$PG_PASSWORD" >"$pw"
    chown postgres "$pw"
    # initdb refuses to run as root.
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U "$PG_USER" --pwfile="$pw" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1 ||
      die "initdb failed; see $dir/initdb.log"
    rm -f "$pw"
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=$PG_FSYNC -c external_pid_file=$(pidfile postgres)" >/dev/null ||
    die "postgres did not start; see $dir/postgres.log"
  wait_until postgres 50 pg_ready
  if ! runuser -u postgres -- "$bin/psql" -h "$dir" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc \
    "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    runuser -u postgres -- "$bin/createdb" -h "$dir" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
}

start_etcd() {
  local dir="$FENCED_HOME/etcd"
  mkdir -p "$dir"
  nohup etcd --name fenced --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "fenced=http://127.0.0.1:$ETCD_PEER_PORT" \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$(pidfile etcd)"
  wait_until etcd 100 etcd_ready
}

start_zookeeper() {
  local dir="$FENCED_HOME/zookeeper"
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<EOF
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=$dir/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,srvr
EOF
  nohup java -Xmx256m -Dzookeeper.log.dir="$dir" -cp "/usr/share/java/zookeeper.jar" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >"$dir/zookeeper.log" 2>&1 </dev/null &
  echo $! >"$(pidfile zookeeper)"
  wait_until zookeeper 150 zk_ready
}

up_one() {
  if running "$1"; then
    log "$1 already running (pid $(head -n 1 "$(pidfile "$1")"))"
    return
  fi
  log "starting $1"
  "start_$1"
  log "$1 ready"
}

down_one() {
  local pf
  pf=$(pidfile "$1")
  if ! running "$1"; then
    rm -f "$pf"
    return
  fi
  local pid
  pid=$(head -n 1 "$pf")
  log "stopping $1 (pid $pid)"
  if [[ $1 == postgres ]]; then
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$FENCED_HOME/postgres/data" -m fast -w stop >/dev/null || kill "$pid"
  else
    kill "$pid"
  fi
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pf"
}

status_one() {
  local where
  case "$1" in
    redis) where="redis://127.0.0.1:$REDIS_PORT" ;;
    postgres) where="postgresql://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB" ;;
    etcd) where="http://127.0.0.1:$ETCD_PORT" ;;
    zookeeper) where="127.0.0.1:$ZK_PORT" ;;
  esac
  if running "$1"; then
    printf '%-10s running  pid %-8s %s\n' "$1" "$(head -n 1 "$(pidfile "$1")")" "$where"
  else
    printf '%-10s stopped  %-12s %s\n' "$1" "" "$where"
  fi
}

print_env() {
  cat <<EOF
export FENCED_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export FENCED_PG_HOST=127.0.0.1
export FENCED_PG_PORT=$PG_PORT
export FENCED_PG_DATABASE=$PG_DB
export FENCED_PG_USER=$PG_USER
export FENCED_PG_PASSWORD=$PG_PASSWORD
export FENCED_ETCD_ENDPOINTS=http://127.0.0.1:$ETCD_PORT
export FENCED_ZK_CONNECT=127.0.0.1:$ZK_PORT
EOF
}

cmd="${1:-status}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || die "unknown backend '$t' (expected one of: ${ALL[*]})"
done

case "$cmd" in
  up)
    need_packages "${targets[@]}"
    mkdir -p "$FENCED_HOME"
    for t in "${targets[@]}"; do up_one "$t"; done
    ;;
  down) for t in "${targets[@]}"; do down_one "$t"; done ;;
  restart) for t in "${targets[@]}"; do down_one "$t" && up_one "$t"; done ;;
  status) for t in "${targets[@]}"; do status_one "$t"; done ;;
  env) print_env ;;
  *) die "unknown command '$cmd' (expected up, down, restart, status or env)" ;;
esac
