#!/usr/bin/env bash
# Builds ndnsvs-node's release binaries for the edge targets (linux/amd64,
# linux/arm64, linux/arm v7): static (CGO_ENABLED=0, no libc needed),
# stripped, and reproducible (-trimpath, no build id: the same commit gives
# the same bytes, deploy/deploy_test.go checks it), with their SHA256SUMS.
#
#   deploy/release.sh [OUTDIR]     (default: dist)
#
# The version in the names, and in "ndnsvs-node version", is the checkout's
# (git describe); outside a git checkout it is "dev".
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
mkdir -p "$out"
names=()
for target in linux/amd64 linux/arm64 linux/arm/7; do
  IFS=/ read -r os arch arm <<<"$target"
  name="ndnsvs-node-$version-$os-$arch${arm:+v$arm}"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=${arm:-} \
    go build -trimpath -ldflags='-s -w -buildid=' -o "$out/$name" ./cmd/ndnsvs-node
  names+=("$name")
done
(cd "$out" && sha256sum "${names[@]}" > SHA256SUMS)
cat "$out/SHA256SUMS"
