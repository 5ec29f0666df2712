#!/usr/bin/env bash
# Builds ndnsvs-node's OCI image with podman (no Docker daemon): FROM
# scratch, the static binary of deploy/release.sh, user 65532, for
# linux/amd64, linux/arm64 and linux/arm/v7, as a manifest list
# localhost/ndnsvs-node:TAG over the images TAG-amd64, TAG-arm64 and
# TAG-armv7. Reproducible: every timestamp is the commit's time, so one
# commit gives the same image IDs and digests (deploy/deploy_test.go builds
# twice and compares).
#
#   deploy/image.sh [TAG [OUTDIR]]
#
# TAG defaults to the checkout's version (git describe), "dev" outside git.
# This machine's platform's image is also tagged latest, the name the
# compose file and the Kubernetes manifests use.
# With OUTDIR, each platform's image is also saved there as
# ndnsvs-node-TAG-<arch>.tar (docker-archive): "docker load -i FILE" and
# "podman load -i FILE" both take it. IMAGE names the repository
# (default localhost/ndnsvs-node). Podman's usual CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF choose its storage.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
tag=${1:-$version}
if [ "$tag" = latest ]; then
  echo "image.sh: TAG latest is the name of this machine's platform's image; give another" >&2
  exit 2
fi
case $(uname -m) in
  x86_64) host=amd64 ;;
  aarch64 | arm64) host=arm64 ;;
  armv7l) host=armv7 ;;
  *) host= ;;
esac
out=${2:-}
image=${IMAGE:-localhost/ndnsvs-node}
# SOURCE_DATE_EPOCH's convention: the commit's time, else 0.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
deploy/release.sh "$ctx/dist" >/dev/null
mkdir -p "$ctx/bin"
for f in "$ctx"/dist/ndnsvs-node-*-linux-*; do
  mv "$f" "$ctx/bin/ndnsvs-node-linux-${f##*-linux-}"
done

# The file system, with modes set here rather than taken from the umask
# of the checkout.
umask 022
mkdir -p "$ctx/rootfs/etc/ndnsvs-node" "$ctx/rootfs/tmp" "$ctx/owned/run/nfd" "$ctx/owned/var/lib/ndnsvs-node"
printf 'root:x:0:0:root:/:/sbin/nologin\nndnsvs:x:65532:65532:ndnsvs-node:/var/lib/ndnsvs-node:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nndnsvs:x:65532:\n' > "$ctx/rootfs/etc/group"
cp deploy/image/config.toml "$ctx/rootfs/etc/ndnsvs-node/config.toml"
chmod 0644 "$ctx/rootfs/etc/passwd" "$ctx/rootfs/etc/group" "$ctx/rootfs/etc/ndnsvs-node/config.toml"
chmod 1777 "$ctx/rootfs/tmp"
chmod 0750 "$ctx/owned/run/nfd"
chmod 0700 "$ctx/owned/var/lib/ndnsvs-node"
chmod 0755 "$ctx"/bin/*
find "$ctx" -exec touch -h -d "@$epoch" {} +

podman manifest rm "$image:$tag" >/dev/null 2>&1 || true
podman manifest create "$image:$tag" >/dev/null
for platform in linux/amd64 linux/arm64 linux/arm/v7; do
  IFS=/ read -r _ arch variant <<<"$platform"
  podman build --quiet --platform "$platform" --timestamp "$epoch" \
    -f deploy/image/Containerfile -t "$image:$tag-$arch$variant" "$ctx" >/dev/null
  podman manifest add "$image:$tag" "containers-storage:$image:$tag-$arch$variant" >/dev/null
  id=$(podman image inspect --format '{{.Id}}' "$image:$tag-$arch$variant")
  size=$(podman image inspect --format '{{.Size}}' "$image:$tag-$arch$variant")
  echo "$image:$tag-$arch$variant $platform id sha256:$id $size bytes"
  if [ -n "$out" ]; then
    mkdir -p "$out"
    podman save --quiet --format docker-archive -o "$out/ndnsvs-node-$tag-$arch$variant.tar" "$image:$tag-$arch$variant"
  fi
done
echo "$image:$tag manifest list of the three"
if [ -n "$host" ]; then
  podman tag "$image:$tag-$host" "$image:latest"
  echo "$image:latest this machine's ($host)"
fi
