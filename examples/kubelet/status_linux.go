//go:build linux

package kubelet

import "github.com/podkit/podkit/sandbox"

// PodPhase is the Kubernetes pod phase.
type PodPhase string

// Pod phases.
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// Waiting reasons the kubelet reports.
const (
	ReasonContainerCreating = "ContainerCreating" // created, not started
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"  // exited, to be restarted after its back-off
)

// ContainerStatus is a container's state as Kubernetes reports it: the
// sandbox's facts, with the Waiting reasons filled in.
type ContainerStatus struct {
	sandbox.ContainerStatus
	Init bool
	// Sidecar: an init container with restartPolicy Always.
	Sidecar bool
	// RestartCount is the number of restarts (the sandbox's Attempt).
	RestartCount int
	// Started: running, its postStart hook returned and its startup
	// probe (if any) succeeded (Kubernetes' containerStatuses[].started).
	Started bool
	// Ready is Kubernetes' containerStatuses[].ready: an app container or
	// sidecar is ready when started and its readiness probe (if any)
	// passed, not while the pod is stopping; an init container once it
	// completed successfully.
	Ready bool
	// Message is the termination message of the last run (Exit set).
	Message string
}

// Status is a snapshot of the pod.
type Status struct {
	ID         string
	State      sandbox.State // the sandbox's
	Phase      PodPhase
	PausePid   int
	Namespaces map[string]uint64
	// InitContainers and Containers list the containers created so far,
	// in order. Exit is the last termination, also while Waiting to be
	// restarted.
	InitContainers []ContainerStatus
	Containers     []ContainerStatus
	// Ready is the pod's Ready condition (and ContainersReady): every app
	// container and sidecar exists and is Ready.
	Ready bool
}

// Status returns the pod phase and the containers' states.
func (p *Pod) Status() Status {
	sst := p.sb.Status()
	st := Status{ID: sst.ID, State: sst.State, PausePid: sst.PausePid, Namespaces: sst.Namespaces}
	byName := map[string]sandbox.ContainerStatus{}
	for _, c := range sst.Containers {
		byName[c.Name] = c
	}
	p.mu.Lock()
	known := append([]string(nil), p.known...)
	for n, c := range p.held {
		if _, ok := byName[n]; !ok {
			byName[n] = c
		}
	}
	restarting := p.active && sst.State == sandbox.StateReady
	failed, completing, stopping := p.failed, p.completing, p.stopping
	runs := map[string]run{}
	for n, r := range p.runs {
		runs[n] = *r
	}
	p.mu.Unlock()
	specs := map[string]Container{}
	for _, c := range append(append([]Container(nil), p.spec.InitContainers...), p.spec.Containers...) {
		specs[c.Name] = c
	}
	for _, name := range known {
		sc, ok := byName[name]
		if !ok {
			continue
		}
		init := p.inits[name]
		spec := specs[name]
		cs := ContainerStatus{ContainerStatus: sc, Init: init, Sidecar: init && spec.Sidecar(), RestartCount: sc.Attempt}
		r, managed := runs[name]
		cs.Started = sc.State == sandbox.ContainerRunning && (!managed || r.started)
		switch {
		case init && !cs.Sidecar:
			cs.Ready = sc.State == sandbox.ContainerTerminated && sc.Exit != nil && sc.Exit.ExitCode == 0
		default:
			cs.Ready = cs.Started && !stopping && (spec.ReadinessProbe == nil || r.ready)
		}
		if sc.State == sandbox.ContainerTerminated {
			cs.Message = p.terminationMessage(spec, sc)
		}
		switch {
		case sc.State == sandbox.ContainerWaiting:
			cs.Reason = ReasonContainerCreating
		case sc.State == sandbox.ContainerRunning && r.hooking:
			// Not Running until postStart returned, as the kubelet shows it.
			cs.State, cs.Reason = sandbox.ContainerWaiting, ReasonContainerCreating
		case sc.State == sandbox.ContainerTerminated && restarting && !(completing && cs.Sidecar) &&
			shouldRestart(p.spec.policyOf(spec, init), sc.Exit):
			// Straight to Waiting, as the kubelet reports it: a Terminated
			// state in between would make the pod look Failed for a moment.
			cs.State, cs.Reason = sandbox.ContainerWaiting, ReasonCrashLoopBackOff
		}
		if init {
			st.InitContainers = append(st.InitContainers, cs)
		} else {
			st.Containers = append(st.Containers, cs)
		}
	}
	st.Phase = podPhase(st, failed, len(p.spec.Containers))
	st.Ready = p.podReady(st)
	return st
}

// podReady is the pod's Ready condition: all app containers and sidecars
// known and ready, in a pod that is neither Succeeded nor Failed.
func (p *Pod) podReady(st Status) bool {
	if st.Phase != PodRunning {
		return false
	}
	ready := map[string]bool{}
	for _, c := range append(append([]ContainerStatus(nil), st.InitContainers...), st.Containers...) {
		ready[c.Name] = c.Ready
	}
	for _, c := range p.spec.InitContainers {
		if c.Sidecar() && !ready[c.Name] {
			return false
		}
	}
	for _, c := range p.spec.Containers {
		if !ready[c.Name] {
			return false
		}
	}
	return true
}

// podPhase derives the pod phase from the containers' states, as the
// kubelet does.
func podPhase(st Status, failed bool, apps int) PodPhase {
	switch {
	case st.State == sandbox.StateUnknown:
		return PodUnknown
	case failed:
		return PodFailed
	case st.State == sandbox.StateCreating || st.State == sandbox.StateDestroying || st.State == sandbox.StateDestroyed:
		return PodPending
	}
	for _, c := range st.InitContainers {
		if c.Sidecar {
			continue // started before the next container; never blocks completion
		}
		if c.State != sandbox.ContainerTerminated || c.Exit.ExitCode != 0 {
			return PodPending
		}
	}
	if len(st.Containers) == 0 || len(st.Containers) < apps {
		return PodPending
	}
	running, succeeded, waiting := 0, 0, 0
	for _, c := range st.Containers {
		switch {
		case c.State == sandbox.ContainerRunning:
			running++
		case c.State == sandbox.ContainerWaiting && c.RestartCount == 0:
			waiting++
		case c.State == sandbox.ContainerWaiting: // backing off: still "running" for the pod
			running++
		case c.Exit.ExitCode == 0:
			succeeded++
		}
	}
	switch {
	case waiting > 0:
		return PodPending
	case running > 0:
		return PodRunning
	case succeeded == len(st.Containers):
		return PodSucceeded
	}
	return PodFailed
}
