#!/usr/bin/env bash
# integration/vm/run.sh [package patterns...]   (default: every module of the
# workspace, ./... ./examples/... ./integration/...; run from anywhere)
#
# Runs podkit's tests as root inside a QEMU VM (TCG) whose only cgroup
# hierarchy is cgroup v2, and prints a test summary. See README.md beside this
# file for what it needs, the environment knobs and how it works.
#
# Everything is in functions so bash has parsed the whole script before it
# runs: editing or updating the file during a run cannot break that run.
set -euo pipefail

log() { echo "vm: $*" >&2; }
die() {
	echo "vm: ERROR: $*" >&2
	exit 2
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# setup_host installs missing tools and fetches the kernel.
setup_host() {
	local t
	t=$(now)
	ensure_tools
	ensure_kernel
	log "kernel $VM_KVER ($(basename "$VM_KDIR")), image $(basename "$VM_KERNEL"), setup $(since "$t")s"
}

# build_all builds the test binaries of packages $@ and every main package
# into the staging root, and keeps a copy of the manifest.
build_all() {
	local t
	t=$(now)
	list_test_packages "$@" >"$VM_WORK/packages" || die "go list $* failed"
	[ -s "$VM_WORK/packages" ] || die "no package matching $* has tests"
	mkdir -p "$VM_ROOT/podkit"
	build_tests "$VM_ROOT/podkit" "$VM_WORK/build-failures" <"$VM_WORK/packages"
	build_mains "$VM_ROOT/podkit/prebuilt" "$VM_WORK/build-failures" || die "go list of main packages failed"
	cp "$VM_ROOT/podkit/manifest" "$VM_WORK/manifest"
	VM_BUILD_SECS=$(since "$t")
	log "built $(wc -l <"$VM_WORK/manifest") test binaries and" \
		"$(find "$VM_ROOT/podkit/prebuilt" -type f | wc -l) main packages in ${VM_BUILD_SECS}s"
}

build_image() {
	local t
	t=$(now)
	stage_root "$VM_ROOT" || die "staging the initramfs failed"
	write_env "$VM_ROOT"
	make_initramfs "$VM_ROOT" "$VM_WORK/initramfs.cpio" || die "cpio failed"
	rm -rf "$VM_ROOT"
	log "initramfs $(du -m "$VM_WORK/initramfs.cpio" | cut -f1) MB in $(since "$t")s"
}

# report prints the test summary and the verdict, and returns the exit code.
report() {
	local summary_rc=0 verdict=0 boot init problem
	{
		build_failure_events "$VM_WORK/build-failures"
		collect_events "$VM_WORK/manifest" "$VM_WORK/results.raw" "$VM_WORK/results"
	} >"$VM_WORK/events.json"
	go build -o "$VM_WORK/testsummary" ./internal/cmd/testsummary || die "building testsummary failed"
	if [ -n "${PODKIT_VM_BENCH:-}" ]; then
		echo "benchmarks (in the VM, under TCG):"
		grep -ah -E '^Benchmark.*[0-9] [a-zA-Z/]+/op' "$VM_WORK"/results/pkg-*.log 2>/dev/null || echo "  (none)"
	fi
	"$VM_WORK/testsummary" -title "cgroup v2 VM" <"$VM_WORK/events.json" || summary_rc=$?
	while read -r problem; do
		[ -n "$problem" ] || continue
		log "FAIL: $problem"
		verdict=1
	done < <(vm_problems "$VM_WORK")
	if [ "$summary_rc" -ne 0 ]; then
		log "FAIL: tests failed (or none ran)"
		verdict=1
	fi
	{ read -r boot init _ <"$VM_WORK/results/booted"; } 2>/dev/null || true
	log "kernel $VM_KVER, boot ${boot:-?}s (kernel ${init:-?}s + init), VM ran ${VM_RUN_SECS}s," \
		"build ${VM_BUILD_SECS}s, total $(since "$VM_START")s; logs in $VM_WORK"
	return "$verdict"
}

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	rm -rf "${VM_ROOT:?}"
	[ -n "${PODKIT_VM_KEEP:-}" ] || rm -f "$VM_WORK/initramfs.cpio"
}

main() {
	VM_START=$(now)
	VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	local lib t
	for lib in kernel build image qemu results; do
		# shellcheck source=/dev/null
		. "$VM_HERE/lib/$lib.sh"
	done
	[ "$(id -u)" -eq 0 ] || die "run me as root (installs packages, creates device nodes for the initramfs)"
	cd "$VM_HERE/../.."
	[ -f go.mod ] || die "cannot find the module root above $VM_HERE"
	[ $# -gt 0 ] || set -- ./... ./examples/... ./integration/...
	# Logs of earlier runs are kept for a day (no run lasts that long).
	find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'podkit-vm.*' -type d -mtime +0 -exec rm -rf {} + 2>/dev/null || true
	VM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/podkit-vm.XXXXXX")
	VM_ROOT="$VM_WORK/root"
	VM_BUILDLOGS="$VM_WORK/buildlogs"
	trap cleanup EXIT
	export VM_GO_TAGS VM_STATIC_LDFLAGS VM_BUILDLOGS

	setup_host
	build_all "$@"
	if [ ! -s "$VM_WORK/manifest" ]; then
		log "no test binary built: not booting"
		VM_RUN_SECS=0
		# shellcheck disable=SC2034 # read by vm_problems
		VM_QEMU_RC=0
		mkdir -p "$VM_WORK/results" && echo "0 (nothing ran)" >"$VM_WORK/results/status"
		: >"$VM_WORK/results.raw"
		report
		return
	fi
	build_image
	log "booting (timeout $VM_TIMEOUT); console follows, full logs in $VM_WORK"
	t=$(now)
	boot_vm "$VM_WORK"
	VM_RUN_SECS=$(since "$t")
	report
}

main "$@"
exit $?
