//go:build linux

package sandbox

import "time"

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
}

// Status is a snapshot of the sandbox.
type Status struct {
	ID         string
	State      State
	PausePid   int
	Namespaces map[string]uint64 // kind -> namespace inode
	// Containers in creation order.
	Containers []ContainerStatus
}

func (c *container) status() ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ContainerStatus{
		Name: c.spec.Name, State: c.phase, Pid: c.pid,
		Attempt: c.spec.Attempt, CreatedAt: c.created, StartedAt: c.started,
	}
	if c.exit != nil && c.phase == ContainerTerminated {
		e := *c.exit
		st.Exit, st.Reason = &e, e.Reason
	}
	return st
}

// Status returns the sandbox state and its containers' states.
func (s *Sandbox) Status() Status {
	st := Status{ID: s.cfg.ID, State: s.State(), PausePid: s.PausePid(), Namespaces: map[string]uint64{}}
	for k, p := range s.Namespaces() {
		st.Namespaces[k] = pinIdentity(k, p)
	}
	for _, c := range s.snapshotContainers() {
		st.Containers = append(st.Containers, c.status())
	}
	return st
}
