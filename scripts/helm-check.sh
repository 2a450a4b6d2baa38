#!/usr/bin/env bash
# Static checks of the Helm chart that need no cluster (run by scripts/test.sh):
#   - helm lint --strict with the default values and with every profile in helm/fenced/ci/
#   - the chart's CRD template, k8s/rendered/fenced.yaml and the values table of the chart's
#     README match what their sources generate (scripts/helm-generate.sh --check)
#   - the alerts and the dashboard (helm/fenced/monitoring/): promtool check rules, promtool test
#     rules (a firing and a quiet case per alert; every dashboard query on fixture series), and
#     every dashboard query has its promtool test
#     (promtool comes with Debian's prometheus package, installed here when missing)
# The typed checks of every rendered object (Fabric8 model, LockPolicy validator, secrets,
# security contexts, network policies, bad values) are the deploy-tests module's, run by `mvn verify`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

helm="$(scripts/helm.sh path)/helm"
failed=0
passed=0
lint() {
  local label="$1"; shift
  if out=$("$helm" lint --strict helm/fenced --namespace voting "$@" 2>&1); then
    passed=$((passed + 1))
    echo "[helm-check] lint $label: ok"
  else
    failed=$((failed + 1))
    echo "[helm-check] lint $label: FAILED" >&2
    echo "$out" >&2
  fi
}
lint default
for f in helm/fenced/ci/*-values.yaml; do
  lint "$(basename "$f" -values.yaml)" --values "$f"
done
if scripts/helm-generate.sh --check; then
  passed=$((passed + 1))
  echo "[helm-check] generated files: ok"
else
  failed=$((failed + 1))
fi

# The monitoring files, as the chart ships them.
MON=helm/fenced/monitoring
if ! command -v promtool >/dev/null; then
  echo "[helm-check] installing promtool (Debian package prometheus)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi
command -v jq >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null
step() {
  local label="$1"; shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "[helm-check] $label: ok"
  else
    failed=$((failed + 1))
    echo "[helm-check] $label: FAILED" >&2
  fi
  echo "$out" | sed 's/^/    /'
}
step "promtool check rules" promtool check rules "$MON/alerts.yaml"
step "promtool test rules (alerts)" promtool test rules "$MON/tests/alerts-test.yaml"
step "promtool test rules (dashboard queries)" promtool test rules "$MON/tests/dashboard-test.yaml"
# Each panel query, with $namespace = voting and $__rate_interval = 5m, must be one of the tested
# expressions, so that a dashboard edit cannot leave its test behind.
untested() {
  local q missing=0
  while IFS= read -r q; do
    if ! grep -qxF -- "  - expr: $q" "$MON/tests/dashboard-test.yaml"; then
      echo "no promtool test for the dashboard query: $q"
      missing=1
    fi
  done < <(jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$MON/dashboard.json" |
    sed -e 's/\$namespace/voting/g' -e 's/\$__rate_interval/5m/g')
  return $missing
}
step "every dashboard query has a promtool test" untested

echo "helm-check: $passed passed, $failed failed"
((failed == 0))
