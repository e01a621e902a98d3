// Package integration holds podkit's end-to-end privileged tests. They run on
// the real kernel as root, on the host (cgroup v1 or v2, whatever it has) and
// in a pure cgroup v2 VM (see integration/vm).
package integration
