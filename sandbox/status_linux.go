//go:build linux

package sandbox

import (
	"maps"
	"net/netip"
	"time"
)

// ContainerStatus is one container's state, as the CRI reports it: facts
// about its current run, no policy (whether it will be restarted is the
// caller's business).
type ContainerStatus struct {
	Name  string
	State ContainerPhase
	// Reason is the exit reason when State is Terminated, else empty.
	Reason string
	Pid    int
	// Attempt is ContainerSpec.Attempt as the caller passed it.
	Attempt   int
	CreatedAt time.Time
	StartedAt time.Time
	// Exit is set when State is Terminated.
	Exit *ExitStatus
	// Resources are the container's limits, as created or last updated.
	Resources Resources
	// Labels and Annotations are the spec's.
	Labels      map[string]string
	Annotations map[string]string
	// StartPath is how the current run was started (StartFast or
	// StartLibcontainer); StartPathReason says why it is not the fast
	// path ("" when it is).
	StartPath       StartPath
	StartPathReason string
}

// Status is a snapshot of the sandbox.
type Status struct {
	ID          string
	State       State
	PausePid    int
	CreatedAt   time.Time
	Labels      map[string]string // Config.Labels
	Annotations map[string]string // Config.Annotations
	Namespaces  map[string]uint64 // kind -> namespace inode
	// HostNamespaces are the kinds the pod shares with the host
	// (Config.HostNetwork, HostPID, HostIPC): "net", "pid", "ipc".
	HostNamespaces []string `json:",omitempty"`
	// IPs are the pod's addresses from Config.Network (nil without one).
	IPs []netip.Prefix
	// Containers in creation order.
	Containers []ContainerStatus
}

func (c *container) status() ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ContainerStatus{
		Name: c.spec.Name, State: c.phase, Pid: c.pid,
		Attempt: c.spec.Attempt, CreatedAt: c.created, StartedAt: c.started,
		Labels: maps.Clone(c.spec.Labels), Annotations: maps.Clone(c.spec.Annotations), Resources: c.spec.Resources,
		StartPath: c.startPath, StartPathReason: c.pathReason,
	}
	if c.exit != nil && c.phase == ContainerTerminated {
		e := *c.exit
		st.Exit, st.Reason = &e, e.Reason
	}
	return st
}

// Status returns the sandbox state and its containers' states.
func (s *Sandbox) Status() Status {
	st := Status{ID: s.cfg.ID, State: s.State(), PausePid: s.PausePid(), Namespaces: map[string]uint64{},
		CreatedAt: s.created, Labels: maps.Clone(s.cfg.Labels), Annotations: maps.Clone(s.cfg.Annotations), IPs: s.IPs()}
	for k, p := range s.Namespaces() {
		st.Namespaces[k] = s.pinID(k, p)
	}
	st.HostNamespaces = s.cfg.hostNamespaces()
	for _, c := range s.snapshotContainers() {
		st.Containers = append(st.Containers, c.status())
	}
	return st
}

// pinID returns the identity of the namespace pinned at path, opening the
// pin only the first time: a pin holds the same namespace for its life,
// and status is asked for often (every supervision loop, every CRI
// PodSandboxStatus).
func (s *Sandbox) pinID(kind, path string) uint64 {
	s.mu.Lock()
	id, ok := s.pinIDs[path]
	s.mu.Unlock()
	if ok {
		return id
	}
	if id = pinIdentity(kind, path); id != 0 {
		s.mu.Lock()
		if s.pinIDs == nil {
			s.pinIDs = map[string]uint64{}
		}
		s.pinIDs[path] = id
		s.mu.Unlock()
	}
	return id
}
