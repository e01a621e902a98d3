#!/usr/bin/env bash
# examples/run.sh NAME [args...]: runs example NAME (go run ./examples/NAME)
# as root from the repository root, after installing from Debian's packages
# what the examples need on a fresh machine: a C toolchain (libcontainer's
# nsenter is cgo) and libseccomp-dev (seccomp profiles: -tags seccomp), the standard CNI plugins and iptables (podrun's default
# pod network: bridge, host-local, portmap, firewall under /usr/lib/cni).
# Installs nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: examples/run.sh NAME [args...], NAME one of: $(cd examples && ls -d */ | tr -d / | grep -v internal | tr '\n' ' ')}
shift
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
# Seccomp profiles (libcontainer's support, built with -tags seccomp).
[ -f /usr/include/seccomp.h ] || need+=(libseccomp-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
	echo "examples/run.sh: installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
exec go run -tags seccomp "./examples/$name" "$@"
