// Package runner is podrun: it runs a Kubernetes Pod manifest on this
// machine with podkit's sandbox package, supervises it (restart policy,
// liveness and readiness probes run the way kubelet runs them), writes the
// containers' logs in the CRI log format, and prints a live status table
// like `kubectl get pod -w` (or JSON lines with --json).
//
// Main is the whole command line program; examples/podrun is a thin main
// around it, and tests call Main in-process.
package runner
