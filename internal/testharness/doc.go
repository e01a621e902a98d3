// Package testharness is podkit's privileged test harness.
//
// Every package with tests uses Main as its TestMain. Main makes the test
// binary its own helper (helpers are registered with RegisterHelper and run by
// re-executing the binary with an environment marker), serialises test binaries
// machine-wide with a lock file (the leak checker compares machine-wide state),
// and makes the test process a child subreaper so leaked grandchildren become
// visible children.
//
// Privileged tests start with Privileged, which skips loudly when not root
// (a failure under CI=true) and installs a leak check: mounts, cgroup
// directories under podkit* in every hierarchy, child processes, open file
// descriptors, the namespaces of the process's OS threads, and the host's
// network state (links of the host network namespace, CNI host-local leases
// and libcni cached results under CNIStateDir, iptables/ip6tables chains
// and rules and nftables tables that name CNI or podkit) are compared
// before and after the test, and any difference fails it.
//
// Host network state a CNI network keeps by design (its bridge, portmap's
// and firewall's top-level chains) counts as a leak too: a test that makes
// a network removes that state itself at the end, using a bridge and a
// network name of its own, so the checker stays strict.
package testharness
