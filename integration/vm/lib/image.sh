# shellcheck shell=bash
# The initramfs of the podkit test VM (sourced by integration/vm/run.sh).
#
# Layout of the guest root:
#   /init, /podkit/runtests        guest/init and guest/runtests
#   /bin/busybox (+ applet links)  from busybox-static
#   /lib/modules/<kver>/...        the modules in VM_MODULES and their deps,
#   /lib/modules/podkit.load       in load order
#   /podkit/tests/<n>.test         static test binaries, /podkit/manifest
#   /podkit/prebuilt/              static main packages (PODKIT_PREBUILT)
#   /podkit/src/<pkg dir>/testdata each package's testdata, tests run there
#   /podkit/env                    environment of the test binaries
#
# The archive is an uncompressed newc cpio: unpacking it is cheaper under TCG
# than decompressing it.

VM_MODULES=${PODKIT_VM_MODULES:-veth bridge overlay}

# stage_root fills directory $1 (the build dir holds tests/, prebuilt/ and
# manifest already) for kernel VM_KVER.
stage_root() {
	local root=$1 here
	here=$(dirname "${BASH_SOURCE[0]}")/..
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,podkit/src}
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
	install -m 755 "$here/guest/init" "$root/init"
	install -m 755 "$here/guest/runtests" "$root/podkit/runtests"
	stage_busybox "$root"
	stage_modules "$root"
	stage_etc "$root"
	stage_testdata "$root"
}

stage_busybox() {
	local root=$1 applet
	install -m 755 /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list-full); do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

stage_modules() {
	local root=$1 ko list
	mkdir -p "$root/lib/modules"
	: >"$root/lib/modules/podkit.load"
	# shellcheck disable=SC2086 # a list of module names
	list=$(module_closure $VM_MODULES) || return 1
	for ko in $list; do
		mkdir -p "$root/lib/modules/$VM_KVER/$(dirname "$ko")"
		cp "$VM_MODDIR/$ko" "$root/lib/modules/$VM_KVER/$ko"
		echo "$VM_KVER/$ko" >>"$root/lib/modules/podkit.load"
	done
}

stage_etc() {
	local root=$1
	cat >"$root/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$root/etc/group" <<-'EOF'
		root:x:0:
		nogroup:x:65534:
	EOF
	cat >"$root/etc/hosts" <<-'EOF'
		127.0.0.1 localhost podkit-vm
		::1 localhost ip6-localhost
	EOF
	echo podkit-vm >"$root/etc/hostname"
	: >"$root/etc/resolv.conf"
}

# stage_testdata copies each manifest package's testdata/ next to where its
# binary will run.
stage_testdata() {
	local root=$1 idx pkg dir bin modroot
	modroot=$(go list -m -f '{{.Dir}}')
	while read -r idx pkg dir bin; do
		mkdir -p "$root/podkit/src/$dir"
		if [ -d "$modroot/$dir/testdata" ]; then
			cp -a "$modroot/$dir/testdata" "$root/podkit/src/$dir/"
		fi
	done <"$root/podkit/manifest"
}

# write_env writes /podkit/env from the host's CI and the test flags.
write_env() {
	local root=$1 flags=""
	[ -n "${PODKIT_VM_RUN:-}" ] && flags+=" -test.run=$PODKIT_VM_RUN"
	[ -n "${PODKIT_VM_SKIP:-}" ] && flags+=" -test.skip=$PODKIT_VM_SKIP"
	[ -n "${PODKIT_VM_BENCH:-}" ] && flags+=" -test.bench=$PODKIT_VM_BENCH -test.benchtime=${PODKIT_VM_BENCHTIME:-1s}"
	flags+=" -test.timeout=${PODKIT_VM_TEST_TIMEOUT:-10m}"
	[ -n "${PODKIT_VM_TESTFLAGS:-}" ] && flags+=" $PODKIT_VM_TESTFLAGS"
	{
		echo "export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp"
		echo "export PODKIT_VM=1"
		echo "export PODKIT_PREBUILT=/podkit/prebuilt"
		[ -x "$root/podkit/prebuilt/podkit-pause" ] && echo "export PODKIT_PAUSE=/podkit/prebuilt/podkit-pause"
		printf 'export CI=%q\n' "${CI:-}"
		printf 'export PODKIT_VM_FLAGS=%q\n' "$flags"
	} >"$root/podkit/env"
}

# make_initramfs archives directory $1 into file $2.
make_initramfs() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$2"
}
