#!/usr/bin/env bash
# A first, rough side-by-side figure: uncontended acquire+release cycles per second per backend,
# on the local servers. Usage: scripts/cycle-rate.sh [seconds per backend] [threads]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/backends.sh up >/dev/null
mvn -B -q -ntp -pl lock-sdk -DskipTests test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test >/dev/null
exec java -cp "lock-sdk/target/test-classes:lock-sdk/target/classes:$(cat lock-sdk/target/test.classpath)" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
  dev.fenced.lock.bench.UncontendedCycles "${1:-5}" "${2:-4}"
