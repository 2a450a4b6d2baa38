#!/usr/bin/env bash
# Local lock backends as plain processes: Redis, PostgreSQL, etcd and ZooKeeper, and on request a
# Redis master set under Sentinel (a primary, an asynchronous replica, one Sentinel).
#
#   scripts/backends.sh up     [redis|postgres|etcd|zookeeper|sentinel ...]   install what is missing, start, wait until ready
#   scripts/backends.sh status [...]                                 what runs where
#   scripts/backends.sh down   [...]                                 stop what this script started (by pid)
#   scripts/backends.sh env                                          the FENCED_* variables the tests and services read
#   scripts/backends.sh restart sentinel                             a fresh master set (after a failover test)
#
# Without arguments up/down/status act on redis, postgres, etcd and zookeeper; the Sentinel set is
# started only when named (the failover test starts and stops it itself).
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
SENTINEL_PRIMARY_PORT="${FENCED_SENTINEL_PRIMARY_PORT:-16380}"
SENTINEL_REPLICA_PORT="${FENCED_SENTINEL_REPLICA_PORT:-16381}"
SENTINEL_PORT="${FENCED_SENTINEL_PORT:-16382}"
SENTINEL_MASTER=fenced
PG_USER=fenced
PG_PASSWORD=fenced
PG_DB=fenced
# FENCED_PG_FSYNC=off trades durability for speed in test runs; benchmarks keep the default (on).
PG_FSYNC="${FENCED_PG_FSYNC:-on}"
ALL=(redis postgres etcd zookeeper)
KNOWN=(redis postgres etcd zookeeper sentinel)

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
      sentinel)
        command -v redis-server >/dev/null || missing+=(redis-server redis-tools)
        command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
        ;;
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

sentinel_ready() {
  [[ "$(redis-cli -p "$SENTINEL_PRIMARY_PORT" ping 2>/dev/null)" == PONG ]] &&
    redis-cli -p "$SENTINEL_REPLICA_PORT" info replication 2>/dev/null | grep -q 'master_link_status:up' &&
    [[ "$(redis-cli -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER" 2>/dev/null | tail -n 1)" == "$SENTINEL_PRIMARY_PORT" ]] &&
    redis-cli -p "$SENTINEL_PORT" sentinel replicas "$SENTINEL_MASTER" 2>/dev/null | grep -qx "$SENTINEL_REPLICA_PORT"
}

# A primary, an (asynchronous) replica of it, and one Sentinel with quorum 1 that fails over one
# second after it loses the primary. No persistence: a cache-style set, where a lost increment is
# lost for good. Every start writes fresh configuration, so `restart sentinel` undoes a failover.
start_sentinel() {
  local dir="$FENCED_HOME/sentinel"
  rm -rf "${dir:?}"
  mkdir -p "$dir/primary" "$dir/replica"
  local common=(--bind 127.0.0.1 --daemonize yes --save '' --appendonly no --protected-mode no)
  redis-server --port "$SENTINEL_PRIMARY_PORT" --dir "$dir/primary" --pidfile "$dir/primary.pid" \
    --logfile "$dir/primary.log" "${common[@]}"
  redis-server --port "$SENTINEL_REPLICA_PORT" --dir "$dir/replica" --pidfile "$dir/replica.pid" \
    --logfile "$dir/replica.log" --replicaof 127.0.0.1 "$SENTINEL_PRIMARY_PORT" "${common[@]}"
  cat >"$dir/sentinel.conf" <<CONF
port $SENTINEL_PORT
bind 127.0.0.1
protected-mode no
daemonize yes
pidfile $(pidfile sentinel)
logfile $dir/sentinel.log
dir $dir
sentinel monitor $SENTINEL_MASTER 127.0.0.1 $SENTINEL_PRIMARY_PORT 1
sentinel down-after-milliseconds $SENTINEL_MASTER 1000
sentinel failover-timeout $SENTINEL_MASTER 5000
sentinel parallel-syncs $SENTINEL_MASTER 1
CONF
  redis-sentinel "$dir/sentinel.conf"
  wait_until sentinel 150 sentinel_ready
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
  if [[ $1 == sentinel ]]; then
    # The servers of the set too, whichever of them is primary by now.
    local f
    for f in "$FENCED_HOME/sentinel/primary.pid" "$FENCED_HOME/sentinel/replica.pid"; do
      [[ -f "$f" ]] && kill "$(head -n 1 "$f")" 2>/dev/null || true
    done
  fi
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
    sentinel) where="sentinel 127.0.0.1:$SENTINEL_PORT, master set $SENTINEL_MASTER (primary :$SENTINEL_PRIMARY_PORT, replica :$SENTINEL_REPLICA_PORT)" ;;
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
export FENCED_SENTINEL_NODES=127.0.0.1:$SENTINEL_PORT
export FENCED_SENTINEL_MASTER=$SENTINEL_MASTER
export FENCED_SENTINEL_PRIMARY_PORT=$SENTINEL_PRIMARY_PORT
export FENCED_SENTINEL_REPLICA_PORT=$SENTINEL_REPLICA_PORT
EOF
}

cmd="${1:-status}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  [[ " ${KNOWN[*]} " == *" $t "* ]] || die "unknown backend '$t' (expected one of: ${KNOWN[*]})"
done

case "$cmd" in
  up)
    need_packages "${targets[@]}"
    mkdir -p "$FENCED_HOME"
    for t in "${targets[@]}"; do up_one "$t"; done
    ;;
  down) for t in "${targets[@]}"; do down_one "$t"; done ;;
  restart)
    need_packages "${targets[@]}"
    mkdir -p "$FENCED_HOME"
    for t in "${targets[@]}"; do down_one "$t" && up_one "$t"; done
    ;;
  status) for t in "${targets[@]}"; do status_one "$t"; done ;;
  env) print_env ;;
  *) die "unknown command '$cmd' (expected up, down, restart, status or env)" ;;
esac
