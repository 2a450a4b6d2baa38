#!/usr/bin/env bash
# Static checks of the Helm chart that need no cluster (run by scripts/test.sh):
#   - helm lint --strict with the default values and with every profile in helm/fenced/ci/
#   - the chart's CRD template and k8s/rendered/fenced.yaml match what their sources generate
#     (scripts/helm-generate.sh --check)
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
echo "helm-check: $passed passed, $failed failed"
((failed == 0))
