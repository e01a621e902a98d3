#!/usr/bin/env bash
# integration/vm/run.sh [package patterns...]   (default ./..., run from anywhere)
#
# Runs podkit's tests as root inside a QEMU VM (TCG) whose only cgroup
# hierarchy is cgroup v2, and prints a test summary. See README.md beside this
# file for what it needs, the environment knobs and how it works.
set -euo pipefail

VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_START=$(date +%s.%N)

log() { echo "vm: $*" >&2; }
die() {
	echo "vm: ERROR: $*" >&2
	exit 2
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# shellcheck source=lib/kernel.sh
. "$VM_HERE/lib/kernel.sh"
# shellcheck source=lib/build.sh
. "$VM_HERE/lib/build.sh"
# shellcheck source=lib/image.sh
. "$VM_HERE/lib/image.sh"
# shellcheck source=lib/results.sh
. "$VM_HERE/lib/results.sh"

[ "$(id -u)" -eq 0 ] || die "run me as root (installs packages, creates device nodes for the initramfs)"
cd "$VM_HERE/../.."
[ -f go.mod ] || die "cannot find the module root above $VM_HERE"
[ $# -gt 0 ] || set -- ./...

VM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/podkit-vm.XXXXXX")
VM_ROOT="$VM_WORK/root"
cleanup() {
	rm -rf "$VM_ROOT"
	[ -n "${PODKIT_VM_KEEP:-}" ] || rm -f "$VM_WORK/initramfs.cpio"
}
trap cleanup EXIT
export VM_GO_TAGS VM_STATIC_LDFLAGS

# --- host tools and kernel ---------------------------------------------------
t=$(date +%s.%N)
ensure_tools
ensure_kernel
log "kernel $VM_KVER ($(basename "$VM_KDIR")), image $(basename "$VM_KERNEL"), setup $(since "$t")s"

# --- static builds -------------------------------------------------------------
t=$(date +%s.%N)
list_test_packages "$@" >"$VM_WORK/packages" || die "go list $* failed"
[ -s "$VM_WORK/packages" ] || die "no package matching $* has tests"
mkdir -p "$VM_ROOT/podkit"
build_tests "$VM_ROOT/podkit" <"$VM_WORK/packages" || die "building test binaries failed"
build_mains "$VM_ROOT/podkit/prebuilt" || die "building main packages failed"
cp "$VM_ROOT/podkit/manifest" "$VM_WORK/manifest"
VM_BUILD_SECS=$(since "$t")
log "built $(wc -l <"$VM_WORK/manifest") test binaries and $(ls "$VM_ROOT/podkit/prebuilt" | wc -l) main packages in ${VM_BUILD_SECS}s"

# --- initramfs -------------------------------------------------------------------
t=$(date +%s.%N)
stage_root "$VM_ROOT" || die "staging the initramfs failed"
write_env "$VM_ROOT"
make_initramfs "$VM_ROOT" "$VM_WORK/initramfs.cpio" || die "cpio failed"
rm -rf "$VM_ROOT"
log "initramfs $(du -m "$VM_WORK/initramfs.cpio" | cut -f1) MB in $(since "$t")s"

# --- boot ------------------------------------------------------------------------
VM_TIMEOUT=${PODKIT_VM_TIMEOUT:-40m}
VM_CMDLINE="console=ttyS0 cgroup_no_v1=all panic=-1 oops=panic quiet loglevel=4 mitigations=off rdinit=/init"
VM_CMDLINE+=" ${PODKIT_VM_CMDLINE:-}"
# qboot boots a -kernel faster than SeaBIOS and prints nothing.
VM_BIOS=()
[ -f /usr/share/qemu/qboot.rom ] && VM_BIOS=(-bios /usr/share/qemu/qboot.rom)
log "booting (timeout $VM_TIMEOUT); console follows, full logs in $VM_WORK"
t=$(date +%s.%N)
set +e
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu "${PODKIT_VM_CPU:-max}" -smp "${PODKIT_VM_CPUS:-2}" -m "${PODKIT_VM_MEM:-4G}" \
	-machine "${PODKIT_VM_MACHINE:-pc}" -nodefaults -no-user-config -nographic -no-reboot "${VM_BIOS[@]}" \
	-kernel "$VM_KERNEL" -initrd "$VM_WORK/initramfs.cpio" -append "$VM_CMDLINE" \
	-chardev "stdio,id=console,signal=off,logfile=$VM_WORK/console.log" -serial chardev:console \
	-chardev "file,id=results,path=$VM_WORK/results.raw" -serial chardev:results \
	</dev/null
VM_QEMU_RC=$?
set -e
VM_RUN_SECS=$(since "$t")

# --- results ---------------------------------------------------------------------
collect_events "$VM_WORK/manifest" "$VM_WORK/results.raw" "$VM_WORK/results" >"$VM_WORK/events.json"
read -r VM_BOOT_SECS VM_INIT_SECS _ <"$VM_WORK/results/booted" 2>/dev/null || true
set +e
go run ./internal/cmd/testsummary -title "cgroup v2 VM" <"$VM_WORK/events.json"
VM_SUMMARY_RC=$?
set -e

verdict=0
problems=()
if [ "$VM_QEMU_RC" -eq 124 ] || [ "$VM_QEMU_RC" -eq 137 ]; then
	problems+=("the VM timed out after $VM_TIMEOUT")
elif [ "$VM_QEMU_RC" -ne 0 ]; then
	problems+=("qemu exited with status $VM_QEMU_RC")
fi
if grep -q "Kernel panic" "$VM_WORK/console.log"; then
	problems+=("the guest kernel panicked (see $VM_WORK/console.log)")
fi
VM_STATUS=$(cat "$VM_WORK/results/status" 2>/dev/null || true)
if [ -z "$VM_STATUS" ]; then
	problems+=("the VM did not report a status")
elif [ "${VM_STATUS%% *}" != 0 ]; then
	problems+=("the VM's test runner reported status $VM_STATUS")
fi
[ "$VM_SUMMARY_RC" -ne 0 ] && problems+=("tests failed")
for p in "${problems[@]}"; do
	log "FAIL: $p"
	verdict=1
done
log "kernel $VM_KVER, boot ${VM_BOOT_SECS:-?}s (kernel ${VM_INIT_SECS:-?}s + init), VM ran ${VM_RUN_SECS}s," \
	"build ${VM_BUILD_SECS}s, total $(since "$VM_START")s; logs in $VM_WORK"
exit "$verdict"
