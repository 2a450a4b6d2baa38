#!/usr/bin/env bash
# Writes the LockPolicy files of the local runs into a folder, one per backend and mode, from the
# examples in k8s/examples (vote-counters and tally-owners each) with the addresses of the local
# servers (the FENCED_* ports that scripts/backends.sh uses), and atomic.yaml for the runs without
# a vote lock. Prints the files written, in the order compare.sh runs them (the order that starts
# the fewest processes, see there).
#
#   scripts/policies.sh <dir>
#
# Each file carries a higher locks.fenced.dev/epoch than the one before it, as a move of the lock
# family to another backend needs (docs/lockpolicy.md), so tokens keep rising across the runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: scripts/policies.sh <dir>}"
EX="$ROOT/k8s/examples"
REDIS_PORT="${FENCED_REDIS_PORT:-16379}"
PG_HOST="${FENCED_PG_HOST:-127.0.0.1}"
PG_PORT="${FENCED_PG_PORT:-15432}"
PG_DB="${FENCED_PG_DATABASE:-fenced}"
ETCD_PORT="${FENCED_ETCD_PORT:-12379}"
ZK_PORT="${FENCED_ZK_PORT:-12181}"
mkdir -p "$OUT"

epoch=0
# write <name> <example> [sed expressions...]
write() {
  local name=$1 example=$2 file="$OUT/$1.yaml"
  shift 2
  epoch=$((epoch + 1))
  local exprs=(-e "s#^  namespace: voting\$#  namespace: voting\n  annotations:\n    locks.fenced.dev/epoch: \"$epoch\"#")
  for e in "$@"; do exprs+=(-e "$e"); done
  sed "${exprs[@]}" "$EX/$example" >"$file"
  grep -q 'locks.fenced.dev/epoch' "$file" || { echo "policies.sh: $example changed shape" >&2; exit 1; }
  if grep -qE 'fenced-(redis|postgresql|etcd)|zookeeper:2181' "$file"; then
    echo "policies.sh: $example still names a Service of the chart after the rewrite" >&2
    exit 1
  fi
  echo "$file"
  written=$file
}

# The examples name the chart's Services and Secrets (release fenced in namespace voting); the
# local runs use the servers of scripts/backends.sh, a Redis without a password and the run
# folder's Secret "postgres" (scripts/local-run.sh).
PG=("s#^\(      host:\).*#\1 $PG_HOST#" "s#^\(      port:\).*#\1 $PG_PORT#" "s#^\(      database:\).*#\1 $PG_DB#"
  's#credentialsSecretRef: { name: fenced-postgresql }.*#credentialsSecretRef: { name: postgres }#')

# tally_on_locktable <file> <why>: the file keeps its vote-counters policy; its tally-owners policy
# becomes the PostgreSQL example's, on the lock table of the server that holds the votes.
tally_on_locktable() {
  local file=$1 why=$2
  {
    awk '/^---$/ { exit } { print }' "$file"
    echo "---"
    echo "# tally-owners on the lock table: $why."
    awk 'after { print } /^---$/ { after = 1 }' "$EX/lockpolicy-postgres.yaml" |
      sed -e "s#^  namespace: voting\$#  namespace: voting\n  annotations:\n    locks.fenced.dev/epoch: \"$epoch\"#" \
        "${PG[@]/#/-e}"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
  grep -q '^  name: tally-owners' "$file" || { echo "policies.sh: lockpolicy-postgres.yaml changed shape" >&2; exit 1; }
}

# Atomic: vote-api with FENCED_VOTE_COUNTER=atomic takes no lock for a vote (vote-counters stays
# None, for the record); the tally owners lock as under None.
write atomic lockpolicy-none.yaml \
  "1s|.*|# For vote-api with FENCED_VOTE_COUNTER=atomic: a vote takes no lock, the database adds one.|"
tally_on_locktable "$written" "the votes take no lock"
# None shows the counters' race; the tally owners still lock, so that only the counters race and
# the tally stays exact, as under every other policy.
write none lockpolicy-none.yaml
tally_on_locktable "$written" "only the counters are meant to race"
write redis lockpolicy-redis.yaml "s#redis://fenced-redis:6379#redis://127.0.0.1:$REDIS_PORT#" '/passwordSecretRef:/d'
for mode in LockTable RowLock Advisory; do
  lower=$(tr '[:upper:]' '[:lower:]' <<<"$mode")
  write "postgres-$lower" lockpolicy-postgres.yaml "${PG[@]}" "s#^\(      mode:\).*#\1 $mode#"
  if [[ $mode == RowLock ]]; then
    # tally-owners stays off RowLock: each RowLock hold is an open transaction, and an open
    # transaction holds back the snapshot horizon tally-worker folds up to (docs/tally-worker.md).
    # The votes' locks use RowLock; the tally owners use the lock table of the same server.
    awk '/^  name: / { name = $2 } name == "tally-owners" && /^      mode:/ { sub(/mode: .*/, "mode: LockTable") } { print }' \
      "$written" >"$written.tmp" && mv "$written.tmp" "$written"
  fi
done
write etcd lockpolicy-etcd.yaml "s#http://fenced-etcd:2379#http://127.0.0.1:$ETCD_PORT#"
write zookeeper lockpolicy-zookeeper.yaml "s#connectString: zookeeper:2181#connectString: 127.0.0.1:$ZK_PORT#"
# Last: InProcess runs on one vote-api replica, so compare.sh stops the others for it.
write inprocess lockpolicy-inprocess.yaml
