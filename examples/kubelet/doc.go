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
// Native sidecars (an init container with RestartPolicy Always, GA in
// Kubernetes 1.33) start in order with the other init containers: the
// next one starts once the sidecar started (its postStart returned, its
// StartupProbe succeeded). They are restarted with back-off whatever their
// exit, never block the pod's completion, and are stopped after the app
// containers, in reverse order: by Stop, and as soon as the app containers
// of a pod that may complete (Never, OnFailure) are done for good, so such
// a pod ends Succeeded or Failed by its app containers alone. They are
// stopped too, and not restarted, when an init container fails for good:
// the pod is Failed.
//
// Lifecycle is the kubelet's too. A PostStart hook runs right after each
// start, and the container is not Running (nor Started) until it
// returned; a failed one kills the container. A StartupProbe then runs
// until it succeeds (EventContainerStartedUp, after which liveness and
// readiness probing may begin); FailureThreshold failures kill the
// container, restarted per policy. Once a run started, its LivenessProbe
// and ReadinessProbe run until it ends (a new run gets new probers; Resume
// starts them again for the running containers), each first InitialDelay
// after the run's start, then every Period, an attempt failing after
// Timeout: FailureThreshold liveness failures in a row kill the container
// ("Container x failed liveness probe, will be restarted"), restarted per
// policy; the readiness probe makes the run Ready after SuccessThreshold
// successes in a row and unready after FailureThreshold failures
// (EventContainerReady, EventContainerNotReady). ContainerStatus.Ready
// and the pod's Ready condition (Status.Ready: every app container and
// sidecar ready) are Kubernetes'; a container without a readiness probe
// is ready once started, and none is once Stop began. Stop runs the
// preStop hooks within the grace period before SIGTERM. Hooks are exec (Exec in the container),
// httpGet (dialled from inside the pod's network namespace), sleep, and
// tcpSocket, which is accepted and fails when run, as in the kubelet. A
// TerminationMessagePath is a host file bind-mounted into each run and
// read after its exit (4096 bytes at most); FallbackToLogsOnError uses the
// tail of the run's log when a failed run left the file empty.
// Validation refuses bad lifecycle fields before anything is created, with
// a *FieldError naming the field.
//
// The pod survives a restart of its manager: Run saves the PodSpec and
// what it decided in kubelet.json in the sandbox's run directory
// (sandbox.Sandbox.Dir), and Resume, after sandbox.Load, reads it and
// re-attaches the supervision of the app containers (one that exited while
// no manager was attached is restarted after the first back-off).
//
// Events merges the sandbox's event stream with the kubelet's own events
// (restarts, hooks, probes, readiness changes, kills).
package kubelet
