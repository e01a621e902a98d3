#!/usr/bin/env bash
# Static analysis of the three modules (library, examples, integration):
# staticcheck, pinned, over everything `go build` covers. Any finding fails
# the run. .ci/run calls it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# honnef.co/go/tools v0.8.2 is staticcheck 2026.2.2, the first to build
# with (and understand) go1.26.
STATICCHECK_VERSION=v0.8.2
bindir="$(go env GOBIN)"
[ -n "$bindir" ] || bindir="$(go env GOPATH)/bin"
go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
echo "lint: $("$bindir/staticcheck" -version)"
# -tags seccomp: the build every test and program uses (libcontainer's
# seccomp support), so its files are checked too.
"$bindir/staticcheck" -tags seccomp ./... ./examples/... ./integration/...
echo "lint: no findings"
