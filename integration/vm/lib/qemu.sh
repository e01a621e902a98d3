# shellcheck shell=bash
# Boots the podkit test VM and judges how it ended (sourced by run.sh).

VM_TIMEOUT=${PODKIT_VM_TIMEOUT:-40m}

# boot_vm boots kernel VM_KERNEL with initramfs $1/initramfs.cpio. The console
# (ttyS0) goes to the terminal and $1/console.log, the result port (ttyS1) to
# $1/results.raw. Sets VM_QEMU_RC.
boot_vm() {
	local work=$1 cmdline tail_pid="" stdin=/dev/null
	local bios=()
	cmdline="console=ttyS0 cgroup_no_v1=all panic=-1 oops=panic quiet loglevel=4"
	cmdline+=" mitigations=off rdinit=/init ${PODKIT_VM_CMDLINE:-}"
	# qboot boots a -kernel faster than SeaBIOS and prints nothing.
	[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
	if [ -n "${PODKIT_VM_SHELL:-}" ]; then
		cmdline+=" podkit.shell=1"
		stdin=/dev/stdin
	fi
	: >"$work/results.raw"
	if [ -n "${PODKIT_VM_VERBOSE:-}" ]; then
		# Stream the raw test output (minus test2json's framing bytes) live.
		tail -n +1 -F "$work/results.raw" 2>/dev/null > >(sed -u 's/\x16//g') &
		tail_pid=$!
	fi
	# -cpu qemu64 rather than max: process-heavy tests run about 25% faster
	# under TCG (pause's 10000-orphan test: 63-69 s vs 81-91 s with max).
	set +e
	timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu "${PODKIT_VM_CPU:-qemu64}" \
		-smp "${PODKIT_VM_CPUS:-2}" -m "${PODKIT_VM_MEM:-4G}" \
		-machine "${PODKIT_VM_MACHINE:-pc}" -nodefaults -no-user-config -nographic -no-reboot \
		"${bios[@]}" -kernel "$VM_KERNEL" -initrd "$work/initramfs.cpio" -append "$cmdline" \
		-chardev "stdio,id=console,signal=off,logfile=$work/console.log" -serial chardev:console \
		-chardev "file,id=results,path=$work/results.raw" -serial chardev:results \
		<"$stdin"
	VM_QEMU_RC=$?
	set -e
	if [ -n "$tail_pid" ]; then
		sleep 1
		kill "$tail_pid" 2>/dev/null || true
		wait "$tail_pid" 2>/dev/null || true
	fi
}

# vm_problems prints one line per way the VM run in $1 went wrong other than
# failing tests: timeout, QEMU error, kernel panic, no or bad status.
vm_problems() {
	local work=$1 status
	if [ "$VM_QEMU_RC" -eq 124 ] || [ "$VM_QEMU_RC" -eq 137 ]; then
		echo "the VM timed out after $VM_TIMEOUT (PODKIT_VM_TIMEOUT)"
	elif [ "$VM_QEMU_RC" -ne 0 ]; then
		echo "qemu exited with status $VM_QEMU_RC"
	fi
	if grep -q "Kernel panic" "$work/console.log" 2>/dev/null; then
		echo "the guest kernel panicked: $(grep -m1 "Kernel panic" "$work/console.log")"
	fi
	status=$(cat "$work/results/status" 2>/dev/null || true)
	if [ -z "$status" ]; then
		echo "the VM did not report a status"
	elif [ "${status%% *}" != 0 ]; then
		echo "the VM's test runner reported status $status"
	fi
}
