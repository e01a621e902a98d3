# shellcheck shell=bash
# The initramfs of the podkit test VM (sourced by integration/vm/run.sh).
#
# Layout of the guest root:
#   /init, /podkit/runtests        guest/init and guest/runtests
#   /{usr/,}{s,}bin/               host coreutils, util-linux, iproute2, dash...
#                                  with their ldd closure; busybox fills gaps
#   /podkit/busybox/               busybox applet links (init's PATH)
#   /lib/modules/<kver>/...        the modules in VM_MODULES and their deps,
#   /lib/modules/podkit.load       in load order
#   /podkit/tests/<n>.test         static test binaries, /podkit/manifest
#   /podkit/prebuilt/              static main packages (PODKIT_PREBUILT)
#   /podkit/src/                   the module's source tree (with testdata);
#                                  each test binary runs in its package's dir
#   /podkit/env                    environment of the test binaries
#   /podkit/extra/                 host files named in PODKIT_VM_EXTRA
#
# The archive is an uncompressed newc cpio: unpacking it is cheaper under TCG
# than decompressing it.

# Modules loaded at boot: pod networking (veth, bridge), the VM's uplink
# (dummy: guest/init), image rootfs (overlay), and the netfilter core CNI's
# portmap and firewall plugins drive through Debian's iptables (iptables-nft:
# nf_tables with nft_compat for the xt_* matches and targets) and the leak
# checker reads with nft.
# crc32c_generic first: libcrc32c (nf_conntrack, nf_nat, nf_tables need it)
# asks the crypto API for crc32c when it loads, a dependency modules.dep
# does not record (qemu64 has no SSE4.2 for crc32c_intel).
VM_MODULES=${PODKIT_VM_MODULES:-crc32c_generic veth bridge dummy overlay nf_tables nft_compat nf_conntrack nf_nat
	nft_chain_nat nft_ct nft_nat nft_masq nft_redir nft_fib_inet nft_reject_inet
	xt_comment xt_mark xt_multiport xt_addrtype xt_conntrack xt_MASQUERADE xt_nat xt_tcpudp ext4}
# Modules staged for guest/init to load with parameters: brd, the RAM disk
# that holds /tmp's ext4 (see setup_tmp there).
VM_STAGED_MODULES=${PODKIT_VM_STAGED_MODULES:-brd}
# Module directories staged whole (with their dependencies) but not loaded:
# the kernel asks /sbin/modprobe (busybox, reading modules.dep and
# modules.alias) for whatever else a rule needs (xt_<name>, nft-expr-<name>).
VM_MODULE_TREES=${PODKIT_VM_MODULE_TREES:-kernel/net/netfilter kernel/net/ipv4/netfilter
	kernel/net/ipv6/netfilter kernel/net/bridge}
VM_HOST_PACKAGES=${PODKIT_VM_HOST_PACKAGES:-coreutils util-linux mount iproute2 procps bash dash hostname perl-base
	iptables nftables e2fsprogs strace}
# Packages copied whole (not just their programs), with the ldd closure of
# their ELF files: podrun's `image: host` containers and the examples run perl
# scripts that need perl-base's modules; iptables dlopen()s its xtables
# extensions (/usr/lib/<triplet>/xtables/*.so); the CNI plugins live in
# /usr/lib/cni.
VM_HOST_TREES=${PODKIT_VM_HOST_TREES:-perl-base iptables containernetworking-plugins}

# stage_root fills directory $1 (the build dir holds tests/, prebuilt/ and
# manifest already) for kernel VM_KVER.
stage_root() {
	local root=$1 here
	here=$(dirname "${BASH_SOURCE[0]}")/..
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,var/tmp,podkit/src}
	ln -s /run "$root/var/run"
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
	install -m 755 "$here/guest/init" "$root/init"
	install -m 755 "$here/guest/runtests" "$root/podkit/runtests"
	stage_host_tools "$root"
	stage_busybox "$root"
	stage_modules "$root"
	stage_etc "$root"
	stage_testdata "$root"
	stage_extra "$root"
}

# stage_extra copies each host file of PODKIT_VM_EXTRA (space separated) to
# /podkit/extra/<base name>: binaries a test needs that the lane does not
# build, such as integration/kubelet's kubelet and crictl.
stage_extra() {
	local root=$1 f
	[ -n "${PODKIT_VM_EXTRA:-}" ] || return 0
	mkdir -p "$root/podkit/extra"
	for f in $PODKIT_VM_EXTRA; do
		[ -f "$f" ] || { log "PODKIT_VM_EXTRA: no file $f"; return 1; }
		cp -L "$f" "$root/podkit/extra/" || return 1
	done
}

# stage_busybox installs busybox with every applet linked in /podkit/busybox
# (init's PATH: always busybox) and, where no host program took the place, in
# the usual bin directories.
stage_busybox() {
	local root=$1 applet
	install -m 755 /bin/busybox "$root/bin/busybox"
	mkdir -p "$root/podkit/busybox"
	for applet in $(/bin/busybox --list); do
		ln -s /bin/busybox "$root/podkit/busybox/$applet"
	done
	for applet in $(/bin/busybox --list-full); do
		[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

# stage_host_tools copies every program of the host packages in
# VM_HOST_PACKAGES to the same path in the guest, with its ldd closure: tests
# may rely on GNU coreutils, util-linux, iproute2 and dash behaviour that
# busybox lacks (readlink of two files, nsenter --net=FILE, lsns, ip netns;
# busybox sh even runs its own applets before PATH).
stage_host_tools() {
	local root=$1 progs prog lib tree elves
	# shellcheck disable=SC2086 # a list of package names
	progs=$(dpkg -L $VM_HOST_PACKAGES 2>/dev/null | grep -E '^/(usr/)?s?bin/[^/]+$' |
		while read -r f; do [ -f "$f" ] && [ -x "$f" ] && echo "$f"; done | sort -u)
	[ -n "$progs" ] || {
		log "none of the host packages $VM_HOST_PACKAGES is installed; the VM has busybox only"
		return 0
	}
	for prog in $progs; do
		cp -L "$prog" "$root$prog"
	done
	# shellcheck disable=SC2086 # a list of package names
	tree=$(dpkg -L $VM_HOST_TREES 2>/dev/null | while read -r f; do
		if [ -f "$f" ] && [ ! -e "$root$f" ]; then
			mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f" && echo "$f"
		fi
	done)
	elves=$(for f in $progs $tree; do
		if [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then echo "$f"; fi
	done)
	# shellcheck disable=SC2086 # a list of paths without spaces
	for lib in $(ldd $elves 2>/dev/null | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	stage_alternatives "$root"
	[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$root/etc/"
	[ -d /usr/share/iproute2 ] && mkdir -p "$root/usr/share" && cp -a /usr/share/iproute2 "$root/usr/share/"
	return 0
}

# stage_alternatives links the host's update-alternatives commands (iptables,
# ip6tables, their -save and -restore: no package lists them) straight to
# their target when the guest has that target.
stage_alternatives() {
	local root=$1 link target
	for link in /usr/sbin/* /usr/bin/*; do
		[ -L "$link" ] && [ ! -e "$root$link" ] || continue
		case $(readlink "$link") in /etc/alternatives/*) ;; *) continue ;; esac
		target=$(readlink -f "$link")
		if [ -e "$root$target" ]; then ln -s "$target" "$root$link"; fi
	done
	return 0
}

# stage_modules copies the modules in VM_MODULES, listed in load order in
# /lib/modules/podkit.load, and those under VM_MODULE_TREES, all with their
# dependencies and the module indexes busybox modprobe reads, so the kernel
# can load on demand what the boot did not.
stage_modules() {
	local root=$1 ko list tree extra dir f
	dir="$root/lib/modules/$VM_KVER"
	mkdir -p "$dir"
	# shellcheck disable=SC2086 # a list of module names
	list=$(module_closure $VM_MODULES) || return 1
	for ko in $list; do
		echo "$VM_KVER/$ko"
	done >"$root/lib/modules/podkit.load"
	extra=$(for tree in $VM_MODULE_TREES; do
		if [ -d "$VM_MODDIR/$tree" ]; then find "$VM_MODDIR/$tree" -name '*.ko*' -printf '%f\n'; fi
	done | sed 's/\.ko.*//')
	# shellcheck disable=SC2086 # lists of module names
	list=$(module_closure $VM_MODULES $VM_STAGED_MODULES $extra) || return 1
	for ko in $list; do
		mkdir -p "$dir/$(dirname "$ko")"
		cp "$VM_MODDIR/$ko" "$dir/$ko"
	done
	for f in modules.dep modules.alias modules.symbols modules.builtin modules.order; do
		if [ -f "$VM_MODDIR/$f" ]; then cp "$VM_MODDIR/$f" "$dir/"; fi
	done
	return 0
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
	# netbase's tables: iptables resolves protocol and service names and
	# ebtables-nft reads /etc/ethertypes; mkfs.ext4's defaults.
	for f in protocols services ethertypes mke2fs.conf; do
		if [ -f "/etc/$f" ]; then cp "/etc/$f" "$root/etc/$f"; fi
	done
	mkdir -p "$root/etc/cni/net.d" "$root/var/lib/cni" "$root/opt/cni/bin"
	return 0
}

# stage_testdata copies the module's source tree (tracked and untracked
# files git does not ignore: testdata, and the relative source paths some
# tests look at) to /podkit/src; each binary runs in its package's directory.
stage_testdata() {
	local root=$1 dir modroot
	modroot=$(pwd) # the repository root: run.sh runs from there
	if git -C "$modroot" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$modroot" && git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			cpio --null -pdm --quiet "$root/podkit/src") || return 1
	else
		(cd "$modroot" && find . -name .git -prune -o -type f -print0 |
			cpio --null -pdm --quiet "$root/podkit/src") || return 1
	fi
	while read -r _ _ dir _; do
		mkdir -p "$root/podkit/src/$dir"
	done <"$root/podkit/manifest"
}

# write_env writes /podkit/env from the host's CI and the test flags.
write_env() {
	local root=$1 flags=""
	[ -n "${PODKIT_VM_RUN:-}" ] && flags+=" -test.run=$PODKIT_VM_RUN"
	[ -n "${PODKIT_VM_SKIP:-}" ] && flags+=" -test.skip=$PODKIT_VM_SKIP"
	[ -n "${PODKIT_VM_BENCH:-}" ] && flags+=" -test.bench=$PODKIT_VM_BENCH -test.benchtime=${PODKIT_VM_BENCHTIME:-1s}"
	flags+=" -test.timeout=${PODKIT_VM_TEST_TIMEOUT:-20m}"
	[ -n "${PODKIT_VM_TESTFLAGS:-}" ] && flags+=" $PODKIT_VM_TESTFLAGS"
	{
		echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp"
		echo "export PODKIT_VM=1"
		echo "export PODKIT_PREBUILT=/podkit/prebuilt"
		[ -x "$root/podkit/prebuilt/podkit-pause" ] && echo "export PODKIT_PAUSE=/podkit/prebuilt/podkit-pause"
		printf 'export CI=%q\n' "${CI:-}"
		[ -n "${PODKIT_CHURN_CYCLES:-}" ] && printf 'export PODKIT_CHURN_CYCLES=%q\n' "$PODKIT_CHURN_CYCLES"
		printf 'export PODKIT_VM_FLAGS=%q\n' "$flags"
	} >"$root/podkit/env"
}

# make_initramfs archives directory $1 into file $2.
make_initramfs() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$2"
}
