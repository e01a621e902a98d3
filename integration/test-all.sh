#!/usr/bin/env bash
# Runs every podkit test, as root: each package's tests on this host (in the
# cgroup mode the host has), then the same tests in a VM booted with a pure
# cgroup v2 hierarchy (integration/vm). Installs missing Debian packages first.
# Exits non-zero when any test of either lane fails or no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test-all: podkit's tests create namespaces, mounts and cgroups: run as root (sudo $0)" >&2
  exit 1
fi
./integration/install-deps.sh || exit 1

if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then mode=v2
elif [ -d /sys/fs/cgroup/unified ]; then mode=v1-hybrid
else mode=v1; fi

# Containers get seccomp profiles only with libcontainer's seccomp support
# (libseccomp, cgo): every test binary and program is built with it.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=seccomp"

summary=$(mktemp -d)/testsummary
trap 'rm -rf "$(dirname "$summary")"' EXIT
go build -o "$summary" ./internal/cmd/testsummary || exit 1

# The tools some tests build from the Go module proxy (kubelet: ~7 min cold)
# are cached in /var/cache/podkit-tools between runs; on a cold cache their
# builds start now, in the background, to overlap the host lane. The tests
# call the same scripts, which wait for a build under way (flock) and then
# find the tool cached; a failed build is retried and reported by them.
for tool in kubelet cri-tools; do
  ./integration/tools/$tool.sh >"$(dirname "$summary")/$tool.log" 2>&1 &
done

status=0
echo "=== host lane: kernel $(uname -r), cgroup $mode ==="
# integration/vm/selftest asserts the VM's pure v2 setup: it belongs to the VM lane only.
# The workspace (go.work) has three modules: the library, examples and integration.
host_pkgs=$(go list ./... ./examples/... ./integration/... | grep -v '/integration/vm/selftest$') || exit 1
go test -json -count=1 -timeout 30m $host_pkgs 2>&1 | "$summary" -title "host cgroup $mode" || status=1

echo
echo "=== host lane, race detector: the library packages and examples/kubelet ==="
# Their tests drive the concurrency (reapers, churn, the kubelet's
# supervisors); the other examples and integration tests run prebuilt
# binaries without -race.
go test -race -json -count=1 -timeout 30m ./pause/... ./nsjoin/... ./cgroup/... ./sandbox/... ./examples/kubelet/... 2>&1 |
  "$summary" -title "host cgroup $mode race" || status=1

echo
echo "=== VM lane: pure cgroup v2 ==="
# integration/critest builds cri-tools' critest with the Go toolchain, which
# the VM lacks: the CRI suite runs on the host lane only. integration/kubelet
# boots a cgroup v2 VM of its own from the host lane.
vm_pkgs=$(go list ./... ./examples/... ./integration/... | grep -v -E '/integration/(critest|kubelet)$') || exit 1
# shellcheck disable=SC2086 # a list of import paths
./integration/vm/run.sh $vm_pkgs || status=1

wait # the background tool builds (finished, unless no test needed them)
echo
if [ $status = 0 ]; then echo "test-all: every lane green"; else echo "test-all: FAILED (see above)"; fi
exit $status
