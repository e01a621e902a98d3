// Package kubelet is the kubelet-level policy podkit's sandbox package
// leaves out: the sandbox offers CRI-level primitives (create, start,
// stop, remove and wait for containers; exec; events; status facts), and
// this package decides, as the kubelet does, what to do with them.
//
// A Pod runs a PodSpec in a sandbox (New, then Run): init containers one
// at a time, in order, each to successful completion; then the app
// containers, created and started. Exited containers are restarted per
// their restart policy (Always, OnFailure, Never; an init container with
// Always is treated as OnFailure) with Kubernetes' crash-loop back-off
// (Backoff: 10s doubling to 5m, back to 10s after a run of 10m). A restart
// is the CRI's: RemoveContainer, then CreateContainer with the next
// ContainerSpec.Attempt, then StartContainer; it is announced with a
// ContainerRestarted event, and a failed one with ContainerRestartFailed
// and retried after the next back-off.
//
// Status adds what the kubelet knows to the sandbox's facts: which
// containers are init containers, their restart counts, the Waiting
// reasons (ContainerCreating; CrashLoopBackOff for a container that exited
// and will be restarted: never Terminated in between, which would make the
// pod look Failed for a moment) and the pod phase: Pending until the init
// containers succeeded and the app containers were started, Running while
// one runs or backs off, Succeeded when all completed, Failed when one
// failed for good (or an init container did), Unknown when the sandbox
// lost its pause.
//
// preStop hooks are the kubelet's too: Stop runs them (as Exec) in every
// running container within the grace period, before the sandbox's Stop
// sends SIGTERM.
//
// The pod survives a restart of its manager: Run saves the PodSpec and
// what it decided in kubelet.json in the sandbox's run directory
// (sandbox.Sandbox.Dir), and Resume, after sandbox.Load, reads it and
// re-attaches the supervision of the app containers (one that exited while
// no manager was attached is restarted after the first back-off).
//
// Events merges the sandbox's event stream with the kubelet's own events.
package kubelet
