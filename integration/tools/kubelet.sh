#!/usr/bin/env bash
# integration/tools/kubelet.sh: builds kubelet (k8s.io/kubernetes, pinned
# below) from the Go module proxy into a cache directory kept between runs,
# and prints that directory. k8s.io/kubernetes requires its staging modules
# (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces them with
# ./staging/... paths, which a dependent module cannot use; so the build runs
# in a throwaway module that requires k8s.io/kubernetes and replaces each
# staging module (read from kubernetes' own go.mod) with its published
# v0.X.Y. Nothing is built when the binary is already cached.
set -euo pipefail
version=v1.37.2
staging=v0.${version#v1.}
cache=${PODKIT_TOOLS_CACHE:-/var/cache/podkit-tools}/kubelet-$version
# One build at a time (integration/test-all.sh starts one in the background
# while the tests that need the tool may ask for it): a second run waits
# for the first and finds the tool cached.
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if [ -x "$cache/kubelet" ]; then
	echo "$cache"
	exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOWORK=off GOFLAGS=-mod=mod
gomod=$(go mod download -json "k8s.io/kubernetes@$version" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$gomod" ] || { echo "kubelet.sh: go.mod of kubernetes@$version not found" >&2; exit 1; }
{
	echo "module podkit.local/kubelet-build"
	echo
	echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
	echo
	echo "require k8s.io/kubernetes $version"
	echo
	# One line per `k8s.io/X => ./staging/src/k8s.io/X` of kubernetes' go.mod.
	sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*$|replace \1 => \1 '"$staging"'|p' "$gomod"
} >go.mod
n=$(grep -c '^replace ' go.mod)
[ "$n" -gt 0 ] || { echo "kubelet.sh: no staging modules in kubernetes@$version go.mod" >&2; exit 1; }
echo "kubelet.sh: building kubelet $version ($n staging replaces)" >&2
cat >tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kubelet"
GO
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
go get "k8s.io/kubernetes/cmd/kubelet@$version" >&2
start=$SECONDS
CGO_ENABLED=0 go build -trimpath -tags providerless -ldflags "$ldflags" -o "$cache/kubelet.new" k8s.io/kubernetes/cmd/kubelet >&2
echo "kubelet.sh: built in $((SECONDS - start)) s" >&2
mv "$cache/kubelet.new" "$cache/kubelet"
echo "$cache"
