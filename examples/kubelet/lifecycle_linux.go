//go:build linux

package kubelet

import (
	"context"
	"slices"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// Kubelet lifecycle event types, in Pod.Events (Err carries the message).
const (
	// EventContainerStartedUp: the run counts as started (its postStart
	// returned, its startup probe succeeded); liveness and readiness probes
	// may begin.
	EventContainerStartedUp sandbox.EventType = "ContainerStartedUp"
	// EventFailedPostStartHook: postStart failed; the container is killed.
	EventFailedPostStartHook sandbox.EventType = "FailedPostStartHook"
	// EventFailedPreStopHook: preStop failed (the stop goes on).
	EventFailedPreStopHook sandbox.EventType = "FailedPreStopHook"
	// EventUnhealthy: a startup, liveness or readiness probe failed (Err
	// says which and why).
	EventUnhealthy sandbox.EventType = "Unhealthy"
	// EventKilling: the kubelet kills a container (Err says why).
	EventKilling sandbox.EventType = "Killing"
)

// run is the kubelet's view of a container's current run.
type run struct {
	hooking bool          // postStart is running
	started bool          // postStart returned and the startup probe succeeded
	ready   bool          // the readiness probe passed (see Status for a container without one)
	once    chan struct{} // closed when some run of the container first started
	cancel  context.CancelFunc
}

// runOf returns the container's run record; p.mu must be held.
func (p *Pod) runOf(name string) *run {
	r := p.runs[name]
	if r == nil {
		r = &run{once: make(chan struct{})}
		p.runs[name] = r
	}
	return r
}

// start starts a created container and runs what follows each start:
// postStart (synchronously, as the kubelet), then the startup prober. A
// failed hook kills the container; its supervisor restarts it per policy.
func (p *Pod) start(ctx context.Context, c Container) error {
	p.mu.Lock()
	r := p.runOf(c.Name)
	if r.cancel != nil {
		r.cancel()
	}
	rctx, cancel := context.WithCancel(ctx)
	r.hooking, r.started, r.ready, r.cancel = c.PostStart != nil, false, false, cancel
	p.mu.Unlock()
	if err := p.sb.StartContainer(ctx, c.Name); err != nil {
		p.ended(c.Name)
		return err
	}
	if c.PostStart != nil {
		err := p.runHook(rctx, c.Name, c.PostStart)
		p.mu.Lock()
		r.hooking = false
		p.mu.Unlock()
		if err != nil {
			p.emit(EventFailedPostStartHook, c.Name, "postStart hook failed: "+err.Error())
			p.kill(ctx, c, "FailedPostStartHook")
			return nil
		}
	}
	if c.StartupProbe == nil {
		p.markStarted(rctx, c)
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active {
		return nil
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.startupProbe(rctx, c)
	}()
	return nil
}

// markStarted: the run of ctx started (postStart returned, the startup
// probe succeeded); its liveness and readiness probes begin.
func (p *Pod) markStarted(ctx context.Context, c Container) {
	p.mu.Lock()
	r := p.runOf(c.Name)
	r.started = true
	select {
	case <-r.once:
	default:
		close(r.once)
	}
	p.mu.Unlock()
	p.emit(EventContainerStartedUp, c.Name, "")
	p.startProbers(ctx, c)
}

// ended cancels what belongs to the container's run that just exited.
func (p *Pod) ended(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.runs[name]; r != nil {
		if r.cancel != nil {
			r.cancel()
		}
		r.hooking, r.started, r.ready = false, false, false
	}
}

// waitStarted blocks until a run of the container started (a sidecar
// before the next init container), or ctx ends.
func (p *Pod) waitStarted(ctx context.Context, name string) error {
	p.mu.Lock()
	ch := p.runOf(name).once
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// kill stops a running container as the kubelet kills one: its preStop
// hook, then SIGTERM, SIGKILL at the end of the pod's grace period.
func (p *Pod) kill(ctx context.Context, c Container, why string) {
	p.emit(EventKilling, c.Name, why)
	p.stopContainer(ctx, c, time.Now().Add(p.spec.Grace))
}

// stopContainer runs the preStop hook, then stops the container, all
// before deadline.
func (p *Pod) stopContainer(ctx context.Context, c Container, deadline time.Time) {
	hook := c.PreStopHandler
	if hook == nil && len(c.PreStop) > 0 {
		hook = &Handler{Exec: c.PreStop}
	}
	if hook != nil {
		hctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		if err := p.runHook(hctx, c.Name, hook); err != nil {
			p.emit(EventFailedPreStopHook, c.Name, "preStop hook failed: "+err.Error())
		}
		cancel()
	}
	_ = p.sb.StopContainer(context.WithoutCancel(ctx), c.Name, max(time.Until(deadline), 0))
}

// appsDone: every app container terminated and none will be restarted.
// Then, as the kubelet does for a pod whose restart policy lets it
// complete, the sidecars are stopped in reverse order.
func (p *Pod) appsDone(ctx context.Context) {
	byName := map[string]sandbox.ContainerStatus{}
	for _, c := range p.sb.Status().Containers {
		byName[c.Name] = c
	}
	for _, c := range p.spec.Containers {
		st, ok := byName[c.Name]
		if !ok || st.State != sandbox.ContainerTerminated || shouldRestart(p.spec.policyOf(c, false), st.Exit) {
			return
		}
	}
	p.mu.Lock()
	if p.completing {
		p.mu.Unlock()
		return
	}
	p.completing = true
	p.mu.Unlock()
	p.sidecarRestarts.Wait()
	p.stopSidecars(ctx, time.Now().Add(p.spec.Grace))
}

// stopSidecars stops the running sidecars one at a time, last first.
func (p *Pod) stopSidecars(ctx context.Context, deadline time.Time) {
	running := map[string]bool{}
	for _, c := range p.sb.Status().Containers {
		running[c.Name] = c.State == sandbox.ContainerRunning
	}
	for _, c := range slices.Backward(p.spec.InitContainers) {
		if c.Sidecar() && running[c.Name] {
			p.stopContainer(ctx, c, deadline)
		}
	}
}

func (p *Pod) emit(t sandbox.EventType, name, msg string) {
	p.events.emit(sandbox.Event{Type: t, Sandbox: p.sb.ID(), Container: name, Err: msg})
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Kill kills a running container as the kubelet does when it decides to
// (as for a failed liveness probe): an EventKilling with why,
// its preStop hook, SIGTERM, SIGKILL at the end of the pod's grace
// period. Its supervisor then restarts it per policy.
func (p *Pod) Kill(ctx context.Context, name, why string) error {
	for _, list := range [][]Container{p.spec.InitContainers, p.spec.Containers} {
		for _, c := range list {
			if c.Name == name {
				p.kill(ctx, c, why)
				return nil
			}
		}
	}
	return newErr("kill", p.sb.ID(), name, sandbox.ErrNotFound)
}
