//go:build linux

package kubelet

import (
	"sync"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// hub fans the pod's events out to subscribers: the sandbox's, forwarded,
// and the kubelet's own. A subscriber that does not keep up loses events
// rather than blocking the pod. SandboxReady is replayed to late
// subscribers, as the sandbox does.
type hub struct {
	mu     sync.Mutex
	subs   []chan sandbox.Event
	closed bool
	ready  *sandbox.Event
}

// forward copies the sandbox's stream until it is closed, then closes the
// hub.
func (h *hub) forward(in <-chan sandbox.Event) {
	for e := range in {
		h.emit(e)
	}
	h.close()
}

func (h *hub) subscribe(buf int) <-chan sandbox.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan sandbox.Event, max(buf, 1))
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

func (h *hub) emit(e sandbox.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Type == sandbox.EventSandboxReady {
		h.ready = &e
	}
	if h.closed {
		return
	}
	for _, ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (h *hub) close() {
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
