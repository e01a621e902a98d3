#!/usr/bin/env bash
# integration/tools/cri-tools.sh: builds crictl and critest of
# sigs.k8s.io/cri-tools (pinned below) from the Go module proxy into a cache
# directory kept between runs, and prints that directory. critest is a test
# binary (cmd/critest holds only a _test.go file), so it is built as
# cri-tools' Makefile does: `go test -c` in a writable copy of the module's
# source. Nothing is built when both binaries are already cached.
set -euo pipefail
version=v1.37.0
cache=${PODKIT_TOOLS_CACHE:-/var/cache/podkit-tools}/cri-tools-$version
ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=$version"
# One build at a time (integration/test-all.sh starts one in the background
# while the tests that need the tool may ask for it): a second run waits
# for the first and finds the tool cached.
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if [ -x "$cache/crictl" ] && [ -x "$cache/critest" ]; then
	echo "$cache"
	exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/cri-tools@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "cri-tools.sh: module source of cri-tools@$version not found" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$cache/crictl.new" ./cmd/crictl &&
	GOWORK=off CGO_ENABLED=0 go test -c -trimpath -ldflags "$ldflags" -o "$cache/critest.new" ./cmd/critest) >&2
mv "$cache/crictl.new" "$cache/crictl"
mv "$cache/critest.new" "$cache/critest"
echo "$cache"
