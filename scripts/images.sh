#!/usr/bin/env bash
# Container images without a Docker engine or a registry: OCI tarballs built by Jib.
#
#   scripts/images.sh base                    the base image: Debian bookworm (minbase) with
#                                             openjdk-17-jre-headless, made by debootstrap from
#                                             Debian packages -> $FENCED_HOME/images/base.tar
#   scripts/images.sh build [app ...]         package each app (default: vote-api tally-worker,
#                                             plus lock-operator when that module exists) and
#                                             build fenced/<app>:<tag> -> $FENCED_HOME/images/<app>.tar
#                                             (FENCED_IMAGES_NO_PACKAGE=1: use target/quarkus-app as it is)
#   scripts/images.sh check [app ...]         unpack each image's layers and run its java as the
#                                             image's user, to show the image holds a working JRE
#                                             and the application
#
# Load a tarball where a runtime exists: `docker load -i vote-api.tar`, `kind load image-archive`,
# `skopeo copy oci-archive:vote-api.tar docker://registry/fenced/vote-api:0.1.0`.
# Needs root for debootstrap. Not part of scripts/test.sh: the base takes minutes to download.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FENCED_HOME="${FENCED_HOME:-$ROOT/.fenced}"
OUT="$FENCED_HOME/images"
TAG="${FENCED_IMAGE_TAG:-0.1.0}"
SUITE=bookworm

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

default_apps() {
  local apps=(vote-api tally-worker)
  [[ -f lock-operator/pom.xml ]] && apps+=(lock-operator)
  echo "${apps[@]}"
}

base() {
  mkdir -p "$OUT"
  if [[ -f "$OUT/base.tar" ]]; then
    log "base image exists: $OUT/base.tar (delete it to rebuild)"
    return
  fi
  command -v debootstrap >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  # The mirror this machine's apt already uses.
  local mirror
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2; exit}')
  [[ -n "$mirror" ]] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2; exit}')
  [[ -n "$mirror" ]] || die "no Debian mirror found in the apt sources"
  local rootfs="$OUT/rootfs"
  if [[ ! -x "$rootfs/usr/bin/java" ]]; then
    rm -rf "$rootfs"
    log "debootstrap $SUITE with openjdk-17-jre-headless (a few minutes)"
    debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
      "$SUITE" "$rootfs" "$mirror" > "$OUT/debootstrap.log" 2>&1 || die "debootstrap failed; see $OUT/debootstrap.log"
  fi
  # What a runtime image does not need.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/log/* "$rootfs"/tmp/*
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "packing the base image"
  tar --numeric-owner --sort=name --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
  local diff_id config_id
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$diff_id"
  mv "$work/layer.tar" "$work/$diff_id/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$diff_id" > "$work/config.json"
  config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["fenced/base-jre17:%s"],"Layers":["%s/layer.tar"]}]' \
    "$config_id" "$SUITE" "$diff_id" > "$work/manifest.json"
  tar -C "$work" -cf "$OUT/base.tar.part" manifest.json "$config_id.json" "$diff_id/layer.tar"
  mv "$OUT/base.tar.part" "$OUT/base.tar"
  log "wrote $OUT/base.tar ($(du -h "$OUT/base.tar" | cut -f1))"
}

build() {
  [[ -f "$OUT/base.tar" ]] || base
  local apps=("$@")
  ((${#apps[@]})) || read -r -a apps <<< "$(default_apps)"
  for app in "${apps[@]}"; do
    [[ -f "$app/pom.xml" ]] || die "no module $app"
    if [[ -z "${FENCED_IMAGES_NO_PACKAGE:-}" ]]; then
      log "packaging $app"
      mvn -B -q -ntp -pl "$app" -am package -DskipTests -Dspotless.skip=true
    fi
    local fastjar="$app/target/quarkus-app"
    [[ -f "$fastjar/quarkus-run.jar" ]] || die "$fastjar/quarkus-run.jar is missing: is $app a Quarkus fast-jar?"
    local stage="$ROOT/images/target/stage/$app"
    rm -rf "$stage"
    mkdir -p "$stage/run"
    cp -r "$fastjar/lib" "$fastjar/quarkus" "$fastjar/app" "$stage/"
    cp "$fastjar/quarkus-run.jar" "$stage/run/"
    log "building fenced/$app:$TAG"
    # The images project has no code of its own; Jib still expects its output folder.
    mkdir -p images/target/classes
    mvn -B -q -ntp -f images/pom.xml package jib:buildTar \
      -Dimage.app="$app" -Dimage.base="tar://$OUT/base.tar" -Dimage.name="fenced/$app:$TAG" \
      -Dimage.stage="$stage" -Dimage.tar="$OUT/$app.tar"
    log "wrote $OUT/$app.tar ($(du -h "$OUT/$app.tar" | cut -f1))"
  done
}

# Unpacks an OCI tarball's layers in order into a folder and runs the image's java in it, as the
# image's user, the way a runtime would start the entrypoint (but without namespaces).
check() {
  local apps=("$@")
  ((${#apps[@]})) || read -r -a apps <<< "$(default_apps)"
  for app in "${apps[@]}"; do
    local tarball="$OUT/$app.tar" dir
    [[ -f "$tarball" ]] || die "no image $tarball: run scripts/images.sh build $app"
    dir=$(mktemp -d)
    tar -C "$dir" -xf "$tarball"
    python3 - "$dir" <<'PY'
import json, sys, os, tarfile
d = sys.argv[1]
index = json.load(open(os.path.join(d, "index.json")))
def blob(digest):
    return os.path.join(d, "blobs", *digest.split(":"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
root = os.path.join(d, "rootfs")
os.makedirs(root)
for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"])) as t:
        t.extractall(root, numeric_owner=True, filter="fully_trusted") if hasattr(tarfile, "data_filter") else t.extractall(root, numeric_owner=True)
c = config["config"]
json.dump({"user": c.get("User"), "entrypoint": c.get("Entrypoint"), "env": c.get("Env"),
           "workdir": c.get("WorkingDir"), "ports": list(c.get("ExposedPorts", {}))},
          open(os.path.join(d, "summary.json"), "w"))
print(json.dumps({"layers": len(manifest["layers"]), "user": c.get("User"),
                  "entrypoint": c.get("Entrypoint"), "ports": list(c.get("ExposedPorts", {}))}))
PY
    local user
    user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"])' "$dir/summary.json")
    [[ "$user" == 185:185 ]] || die "$app runs as '$user', expected the non-root 185:185"
    # The JRE finds its libraries relative to /proc/self/exe, as it would in a container.
    mkdir -p "$dir/rootfs/proc"
    mount -t proc proc "$dir/rootfs/proc"
    trap 'umount "$dir/rootfs/proc" 2>/dev/null || true' RETURN
    log "$app: java in the image, as $user:"
    chroot --userspec="$user" "$dir/rootfs" /usr/bin/java -version 2>&1 | sed 's/^/  /'
    [[ -f "$dir/rootfs/deployments/quarkus-run.jar" ]] || die "$app: /deployments/quarkus-run.jar is missing"
    # The application's main class loads from the image's own files (its --help-free start fails
    # later, without its database, which is not what this checks).
    chroot --userspec="$user" "$dir/rootfs" /usr/bin/java -cp /deployments/quarkus-run.jar \
      -XshowSettings:properties -version 2>&1 | grep -q 'java.class.path = /deployments/quarkus-run.jar' \
      || die "$app: java cannot read /deployments/quarkus-run.jar as $user"
    # Start the entrypoint's application with nothing to talk to (database port 1, no API server):
    # Quarkus must get as far as its own start-up from the image's files, then fail or be stopped.
    mkdir -p "$dir/rootfs/tmp" && chmod 1777 "$dir/rootfs/tmp"
    (cd / && timeout 60 chroot --userspec="$user" "$dir/rootfs" /usr/bin/env -i PATH=/usr/bin:/bin \
      JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=/tmp -Duser.home=/tmp" FENCED_PG_PORT=1 QUARKUS_HTTP_PORT=0 \
      FENCED_POLICIES_DIR=/tmp KUBERNETES_MASTER=https://127.0.0.1:1 \
      sh -c 'cd /deployments && exec java -jar /deployments/quarkus-run.jar' > "$dir/start.log" 2>&1) || true
    grep -q 'io.quarkus' "$dir/start.log" || { cat "$dir/start.log" >&2; die "$app: the application did not start from the image"; }
    log "$app: Quarkus starts from the image: $(grep -oE 'Unable to obtain connection from database|started in [0-9.]+s' "$dir/start.log" | head -n 1)"
    log "$app: ok ($(ls "$dir/rootfs/deployments/lib/main" | wc -l) jars in lib/main)"
    umount "$dir/rootfs/proc"
    rm -rf "$dir"
  done
}

cmd="${1:-}"
shift || true
case "$cmd" in
  base) base ;;
  build) build "$@" ;;
  check) check "$@" ;;
  *) echo "usage: scripts/images.sh base | build [app ...] | check [app ...]" >&2; exit 2 ;;
esac
