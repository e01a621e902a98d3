//go:build linux

package sandbox

import (
	"maps"
	"time"
)

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

// ContainerStatus is one container's state as Kubernetes reports it.
type ContainerStatus struct {
	Name         string
	Init         bool
	State        ContainerPhase
	Reason       string // Waiting: ContainerCreating/CrashLoopBackOff; Terminated: exit reason
	Pid          int
	RestartCount int
	CreatedAt    time.Time
	StartedAt    time.Time
	// Exit is the last termination (current one when State is Terminated).
	Exit *ExitStatus
	// Resources are the container's limits, as created or last updated.
	Resources Resources
	// Labels and Annotations are the spec's.
	Labels      map[string]string
	Annotations map[string]string
}

// Status is a snapshot of the sandbox.
type Status struct {
	ID             string
	State          State
	Phase          PodPhase
	PausePid       int
	CreatedAt      time.Time
	Labels         map[string]string // Config.Labels
	Annotations    map[string]string // Config.Annotations
	Namespaces     map[string]uint64 // kind -> namespace inode
	InitContainers []ContainerStatus
	Containers     []ContainerStatus
}

func (c *container) status() ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ContainerStatus{
		Name: c.spec.Name, Init: c.init, State: c.phase, Pid: c.pid,
		RestartCount: c.restarts, CreatedAt: c.created, StartedAt: c.started,
		Labels: maps.Clone(c.spec.Labels), Annotations: maps.Clone(c.spec.Annotations), Resources: c.spec.Resources,
	}
	if c.exit != nil {
		e := *c.exit
		st.Exit = &e
	}
	switch c.phase {
	case ContainerWaiting:
		st.Reason = c.waitReason
		if st.Reason == "" {
			st.Reason = "ContainerCreating"
		}
	case ContainerTerminated:
		st.Reason = c.exit.Reason
	}
	return st
}

// Status returns the pod phase and per-container states.
func (s *Sandbox) Status() Status {
	st := Status{ID: s.cfg.ID, State: s.State(), PausePid: s.PausePid(), Namespaces: map[string]uint64{},
		CreatedAt: s.created, Labels: maps.Clone(s.cfg.Labels), Annotations: maps.Clone(s.cfg.Annotations)}
	for k, p := range s.Namespaces() {
		st.Namespaces[k] = pinIdentity(k, p)
	}
	for _, c := range s.snapshotContainers() {
		cs := c.status()
		if cs.Init {
			st.InitContainers = append(st.InitContainers, cs)
		} else {
			st.Containers = append(st.Containers, cs)
		}
	}
	s.mu.Lock()
	failed := s.podFailed
	s.mu.Unlock()
	st.Phase = podPhase(st, failed)
	return st
}

func podPhase(st Status, failed bool) PodPhase {
	switch st.State {
	case StateUnknown:
		return PodUnknown
	case StateDestroyed, StateDestroying, StateCreating:
		if failed {
			return PodFailed
		}
		return PodPending
	}
	if failed {
		return PodFailed
	}
	for _, c := range st.InitContainers {
		if c.State != ContainerTerminated || c.Exit.ExitCode != 0 {
			return PodPending
		}
	}
	if len(st.Containers) == 0 {
		return PodPending
	}
	running, succeeded, waiting := 0, 0, 0
	for _, c := range st.Containers {
		switch {
		case c.State == ContainerRunning:
			running++
		case c.State == ContainerWaiting && c.RestartCount == 0:
			waiting++
		case c.State == ContainerWaiting: // backing off: still "running" for the pod
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
