//go:build linux

package criserver

import (
	"context"
	"sync"
	"time"

	"github.com/podkit/podkit/sandbox"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Container events (GetContainerEvents), as containerd sends them: each
// carries the pod sandbox's status and the statuses of the sandbox's
// containers at the time of the event. Containers: CREATED, STARTED,
// STOPPED (its process exited, learnt from the sandbox's event stream)
// and DELETED; pod sandboxes, with the sandbox's id as ContainerId:
// CREATED and STARTED by RunPodSandbox, STOPPED by StopPodSandbox,
// DELETED by RemovePodSandbox. Each subscriber has a buffer of
// eventBuffer events; one that falls further behind loses events (logged)
// rather than holding up the server.

// eventBuffer is the buffer of one subscriber (containerd's).
const eventBuffer = 1000

// eventHub fans events out to the GetContainerEvents streams.
type eventHub struct {
	mu   sync.Mutex
	subs map[chan *runtimeapi.ContainerEventResponse]struct{}
}

func (h *eventHub) subscribe() (<-chan *runtimeapi.ContainerEventResponse, func()) {
	ch := make(chan *runtimeapi.ContainerEventResponse, eventBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[chan *runtimeapi.ContainerEventResponse]struct{}{}
	}
	h.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
	}
}

func (h *eventHub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// publish hands ev to every subscriber and returns how many were full.
func (h *eventHub) publish(ev *runtimeapi.ContainerEventResponse) (dropped int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			dropped++
		}
	}
	return dropped
}

// GetContainerEvents streams container and pod sandbox events until the
// client goes.
func (s *Server) GetContainerEvents(req *runtimeapi.GetEventsRequest, stream runtimeapi.RuntimeService_GetContainerEventsServer) error {
	ch, cancel := s.events.subscribe()
	defer cancel()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev := <-ch:
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

// containerEvent publishes an event about id (a container, or the pod
// sandbox itself) of sandbox sandboxID. It must not be called with the
// sandbox record's lock held (it reads the statuses).
func (s *Server) containerEvent(id, sandboxID string, t runtimeapi.ContainerEventType) {
	if s.events.subscribers() == 0 {
		return
	}
	s.publishEvent(s.eventFor(id, sandboxID, t))
}

// eventFor builds an event with the sandbox's and its containers' current
// statuses (the sandbox's is absent once it is removed).
func (s *Server) eventFor(id, sandboxID string, t runtimeapi.ContainerEventType) *runtimeapi.ContainerEventResponse {
	ctx := context.Background()
	ev := &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: t, CreatedAt: time.Now().UnixNano()}
	if st, err := s.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandboxID}); err == nil {
		ev.PodSandboxStatus = st.GetStatus()
	}
	statuses, attached := s.sandboxStatuses(sandboxID)
	for _, c := range s.containersOf(sandboxID) {
		cs, ok := findContainer(statuses, c.ID)
		if attached && !ok {
			continue // out of its sandbox, its record not yet deleted: being removed
		}
		ev.ContainersStatuses = append(ev.ContainersStatuses, containerStatus(c, cs, ok))
	}
	return ev
}

func (s *Server) publishEvent(ev *runtimeapi.ContainerEventResponse) {
	if n := s.events.publish(ev); n > 0 {
		s.log.Warn("container event dropped for slow subscribers", "id", ev.ContainerId, "type", ev.ContainerEventType, "subscribers", n)
	}
}

// watchExits turns the exits of sb's containers into CONTAINER_STOPPED
// events, until the sandbox is destroyed (its event stream ends).
func (s *Server) watchExits(sandboxID string, sb *sandbox.Sandbox) {
	ch := sb.Events(eventBuffer)
	go func() {
		for ev := range ch {
			if ev.Type == sandbox.EventContainerExited {
				s.containerEvent(ev.Container, sandboxID, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
			}
		}
	}()
}

// sandboxEventOnSuccess publishes an event about a pod sandbox unless
// *err is set (deferred by the sandbox RPCs before they lock the record).
func (s *Server) sandboxEventOnSuccess(id string, t runtimeapi.ContainerEventType, err *error) {
	if *err == nil {
		s.containerEvent(id, id, t)
	}
}
