// Package critest judges podkit-cri (examples/podkit-cri) with the CRI
// validation suite of sigs.k8s.io/cri-tools: critest, built by
// integration/tools/cri-tools.sh, runs against the server with the suite's
// images served from a registry on 127.0.0.1 (integration/criimages).
//
// It runs on the host lane only: building critest needs the Go toolchain,
// which the cgroup v2 VM does not have.
package critest
