#!/usr/bin/env bash
# Installs, from Debian's packages, what podkit's tests need and a fresh Debian
# machine lacks: a C toolchain (libcontainer's nsenter is cgo) and
# libseccomp-dev (its seccomp support, -tags seccomp), iproute2 and
# util-linux (interop tests use ip, nsenter, lsns), QEMU, busybox and cpio
# for the cgroup v2 VM lane, qemu-user (the pause tests also run the
# arm64 pause under it), and the standard CNI plugins with iptables (pod
# networking: examples/internal/podnet runs bridge, host-local, portmap and
# firewall from /usr/lib/cni; portmap and firewall drive iptables; the
# leak checker reads iptables-save, ip6tables-save and nft; the VM lane
# copies them into its guest with netbase's /etc tables).
# Installs nothing when everything is present.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have gcc || need+=(gcc libc6-dev)
# libcontainer applies seccomp profiles through libseccomp (cgo, found by
# pkg-config) in binaries built with -tags seccomp, as every test is.
[ -f /usr/include/seccomp.h ] || need+=(libseccomp-dev)
have pkg-config || need+=(pkg-config)
have ip || need+=(iproute2)
{ have nsenter && have lsns && have unshare; } || need+=(util-linux)
have qemu-system-x86_64 || need+=(qemu-system-x86)
have qemu-aarch64-static || need+=(qemu-user-static)
[ -x /bin/busybox ] || need+=(busybox-static)
have cpio || need+=(cpio)
have flock || need+=(util-linux)
have strace || need+=(strace) # nsjoin: exec under a traced manager
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
{ have iptables && have iptables-save && have ip6tables-save; } || need+=(iptables)
have nft || need+=(nftables)
# The VM lane copies netbase's /etc/protocols, /etc/services and
# /etc/ethertypes into the guest for iptables.
[ -f /etc/ethertypes ] || need+=(netbase)
# The VM lane formats the guest's /tmp as ext4.
[ -x /sbin/mkfs.ext4 ] || need+=(e2fsprogs)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages ${need[*]}; run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# critest's images get Debian's dynamically linked busybox as /bin/sh (its
# shell runs commands by PATH, as the upstream images' does; busybox-static's
# runs its own applets, which a masked /bin/ls never stops). The package
# conflicts with busybox-static, so it is unpacked, not installed.
shell_dir=/var/cache/podkit-tools/busybox-shell
if [ ! -x "$shell_dir/bin/busybox" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download busybox >/dev/null 2>&1) ||
    { apt-get update -qq && (cd "$tmp" && apt-get download busybox >/dev/null); }
  rm -rf "$shell_dir" && mkdir -p "$shell_dir"
  dpkg -x "$tmp"/busybox_*.deb "$tmp/root"
  mkdir -p "$shell_dir/bin" && cp "$tmp/root/bin/busybox" "$shell_dir/bin/busybox"
  rm -rf "$tmp"
  echo "install-deps: Debian's busybox unpacked in $shell_dir"
fi
