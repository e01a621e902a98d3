// Package selftest proves the cgroup v2 VM lane (integration/vm/run.sh): its
// privileged test asserts that it runs on a pure cgroup v2 machine, with the
// controllers podkit needs delegated to the test's cgroup, and that the
// lane's prebuilt binaries and helper re-execution work without a Go
// toolchain. On a cgroup v1 or hybrid host the checks are skipped unless
// PODKIT_VM=1 (set by the VM) demands them; on a cgroup v2 host outside the
// VM, how the test's own cgroup is delegated is only logged.
package selftest
