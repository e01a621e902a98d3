//go:build linux

package sandbox

import (
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// EventType names what happened.
type EventType string

// Event types.
const (
	EventSandboxReady     EventType = "SandboxReady"
	EventSandboxStopped   EventType = "SandboxStopped"
	EventPauseDied        EventType = "PauseDied"
	EventContainerStarted EventType = "ContainerStarted"
	EventContainerExited  EventType = "ContainerExited"
	EventOrphanReaped     EventType = "OrphanReaped"
)

// Event is one entry of a sandbox's event stream.
type Event struct {
	Type      EventType
	Sandbox   string
	Container string
	Time      time.Time
	// Namespaces maps "net", "ipc", "uts" (and "pid") to the namespace
	// inode numbers (SandboxReady).
	Namespaces map[string]uint64
	// IPs are the pod's addresses from Config.Network (SandboxReady).
	IPs []netip.Prefix
	// Exit describes a ContainerExited event.
	Exit *ExitStatus
	// Attempt is the container's ContainerSpec.Attempt (ContainerStarted).
	Attempt int
	// Pid of the process concerned, when meaningful.
	Pid int
	// Err describes a failure, in events a layer above adds to its own
	// stream of these values (examples/kubelet's ContainerRestartFailed).
	Err string
}

// ExitStatus describes how a process ended.
type ExitStatus struct {
	ExitCode int            // 128+signal when killed by a signal, like Kubernetes
	Signal   syscall.Signal // 0 unless killed by a signal
	Reason   string         // Completed, Error, OOMKilled, or KilledAfterGrace
	Finished time.Time
}

// Exit reasons.
const (
	ReasonCompleted        = "Completed"
	ReasonError            = "Error"
	ReasonOOMKilled        = "OOMKilled"
	ReasonKilledAfterGrace = "KilledAfterGracePeriod"
)

// eventHub fans events out to subscribers. A subscriber that does not keep
// up loses events (counted in Dropped) rather than blocking the sandbox.
type eventHub struct {
	mu      sync.Mutex
	subs    []chan Event
	dropped uint64
	closed  bool
	ready   *Event // replayed to late subscribers
}

func (h *eventHub) subscribe(buf int) <-chan Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Event, max(buf, 1))
	if h.ready != nil {
		ch <- *h.ready
	}
	if h.closed {
		close(ch)
		return ch
	}
	h.subs = append(h.subs, ch)
	return ch
}

func (h *eventHub) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Type == EventSandboxReady {
		h.ready = &e
	}
	for _, ch := range h.subs {
		select {
		case ch <- e:
		default:
			h.dropped++
		}
	}
}

func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, ch := range h.subs {
		close(ch)
	}
	h.subs = nil
}
