#!/usr/bin/env bash
# First, rough side-by-side figures: acquire+release cycles per second per backend on the local
# servers, uncontended (one and several workers, each its own lock name), contended (all workers on
# one name) and hand-off (release -> next worker holds), with Redisson's RLock as the Redis reference.
# Usage: scripts/cycle-rate.sh [seconds per figure] [threads] [modes] [backends]
#   modes: comma-separated of single,uncontended,contended,handoff (default: all)
#   backends: comma-separated of inprocess,redis,redisson,pg-locktable,pg-rowlock,pg-advisory,
#             etcd,zookeeper,k8s-lease (default: all)
# Set JAVA_OPTS to pass JVM flags (e.g. a JFR recording).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/backends.sh up >/dev/null
mvn -B -q -ntp -pl lock-sdk -DskipTests test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test >/dev/null
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} \
  -cp "lock-sdk/target/test-classes:lock-sdk/target/classes:$(cat lock-sdk/target/test.classpath)" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
  dev.fenced.lock.bench.Cycles "${1:-5}" "${2:-4}" "${3:-single,uncontended,contended,handoff}" "${4:-}"
