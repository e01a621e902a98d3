# shellcheck shell=bash
# Host tools and the guest kernel for integration/vm/run.sh (sourced).
#
# The kernel is Debian's: the package linux-image-amd64 depends on is fetched
# with `apt-get download` and unpacked with `dpkg -x` into a cache directory
# keyed by package name and version (never installed into the host's /boot).
# The compressed bzImage is turned into an uncompressed vmlinux, which QEMU
# boots through the PVH entry point without running the decompressor under TCG.

VM_CACHE=${PODKIT_VM_CACHE:-/var/cache/podkit-vm}
VM_APT_UPDATED=

apt_update_once() {
	[ -n "$VM_APT_UPDATED" ] && return 0
	log "apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	VM_APT_UPDATED=1
}

# ensure_tools installs qemu-system-x86, busybox-static, cpio and libc6-dev
# when missing.
ensure_tools() {
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	# Static cgo test binaries link glibc's static archive.
	[ -f "/usr/lib/$(uname -m)-linux-gnu/libc.a" ] || missing+=(libc6-dev)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}"
	apt_update_once
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# kernel_package prints "<package> <version>" of the kernel image that
# linux-image-amd64 depends on.
kernel_package() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		apt_update_once
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$pkg $ver"
}

# extract_vmlinux writes the ELF kernel embedded in bzImage $1 to $2. It tries
# every compression magic the kernel may use at every offset it occurs and
# keeps the first payload that decompresses to an ELF image.
extract_vmlinux() {
	local bz=$1 out=$2 magic tool off
	for pair in 'fd377a585a00:xz -dc --single-stream' '1f8b0800:gzip -dc' \
		'28b52ffd:zstd -dc' '894c5a4f:lzop -dc' '5d000000:xz -dc --format=lzma' \
		'425a68:bzip2 -dc' '02214c18:lz4 -dc'; do
		magic=${pair%%:*} tool=${pair#*:}
		command -v "${tool%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$(echo "$magic" | sed 's/../\\x&/g')" "$bz" | cut -d: -f1); do
			tail -c +$((off + 1)) "$bz" | $tool >"$out.tmp" 2>/dev/null
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

# ensure_kernel fills VM_KDIR (unpacked package), VM_KVER (uname -r),
# VM_KERNEL (the image QEMU boots) and VM_MODDIR, fetching when not cached.
ensure_kernel() {
	local pkgver pkg ver
	mkdir -p "$VM_CACHE"
	exec 8>"$VM_CACHE/.lock"
	flock 8
	if pkgver=$(kernel_package); then
		read -r pkg ver <<<"$pkgver"
		VM_KDIR="$VM_CACHE/${pkg}_${ver}"
		[ -f "$VM_KDIR/.complete" ] || fetch_kernel "$pkg" "$ver"
	else
		# No apt answer (offline mirror?): fall back to the newest cached kernel.
		VM_KDIR=$(ls -d "$VM_CACHE"/linux-image-*/.complete 2>/dev/null | sort -V | tail -1)
		VM_KDIR=${VM_KDIR%/.complete}
		[ -n "$VM_KDIR" ] || die "cannot find the linux-image-amd64 kernel package and none is cached"
	fi
	flock -u 8
	exec 8>&-
	VM_KVER=$(ls "$VM_KDIR/lib/modules")
	VM_MODDIR="$VM_KDIR/lib/modules/$VM_KVER"
	VM_KERNEL="$VM_KDIR/vmlinux"
	[ -f "$VM_KERNEL" ] || VM_KERNEL=$(ls "$VM_KDIR"/boot/vmlinuz-*)
}

fetch_kernel() {
	local pkg=$1 ver=$2 tmp kver
	log "fetching kernel $pkg $ver into $VM_CACHE"
	tmp=$(mktemp -d "$VM_CACHE/fetch.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg=$ver" >&2 2>/dev/null) ||
		(apt_update_once && cd "$tmp" && apt-get download -q "$pkg=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	dpkg -x "$tmp"/*.deb "$tmp/root" || die "dpkg -x $pkg failed"
	kver=$(ls "$tmp/root/lib/modules")
	# Debian ships no modules.dep (depmod runs at install time): make one.
	busybox depmod -b "$tmp/root" "$kver" || die "depmod for $kver failed"
	if ! extract_vmlinux "$tmp/root/boot/vmlinuz-$kver" "$tmp/root/vmlinux"; then
		log "could not extract vmlinux; booting the compressed bzImage"
	fi
	rm -rf "${VM_CACHE:?}/${pkg}_${ver}"
	mv "$tmp/root" "$VM_CACHE/${pkg}_${ver}"
	rm -rf "$tmp"
	touch "$VM_CACHE/${pkg}_${ver}/.complete"
	# Older kernels of the same flavour are no longer needed.
	for old in "$VM_CACHE"/linux-image-*; do
		[ "$old" = "$VM_CACHE/${pkg}_${ver}" ] || rm -rf "$old"
	done
}

# module_closure prints the .ko paths (relative to VM_MODDIR) needed to load
# modules $@, each after its dependencies, skipping built-in ones.
module_closure() {
	local dep="$VM_MODDIR/modules.dep"
	awk -v want="$*" -v builtin="$VM_MODDIR/modules.builtin" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
	function visit(p,    n, i, parts) {
		if (p in seen) return
		seen[p] = 1
		n = split(deps[p], parts, " ")
		for (i = n; i >= 1; i--) visit(parts[i])
		print p
	}
	BEGIN { while ((getline l < builtin) > 0) isbuiltin[base(l)] = 1 }
	{ p = $1; sub(/:$/, "", p); $1 = ""; deps[p] = $0; path[base(p)] = p }
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (m in isbuiltin) continue
			if (!(m in path)) { print "unknown module " w[i] > "/dev/stderr"; exit 1 }
			visit(path[m])
		}
	}' "$dep"
}
