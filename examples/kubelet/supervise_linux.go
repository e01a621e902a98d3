//go:build linux

package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// Kubelet event types, in the sandbox's Event values of Pod.Events.
const (
	// EventContainerRestarted: a container was created again for its next
	// attempt (Attempt) after its back-off.
	EventContainerRestarted sandbox.EventType = "ContainerRestarted"
	// EventContainerRestartFailed: a restart could not create or start the
	// container (Err says why); it is retried after the next back-off.
	EventContainerRestartFailed sandbox.EventType = "ContainerRestartFailed"
)

// errCompleting: a sidecar's restart was dropped, the pod is completing
// (its app containers are done for good, or an init container failed).
var errCompleting = errors.New("the pod is completing: sidecars are not restarted")

// runInit runs one init container to completion, retrying per policy.
func (p *Pod) runInit(ctx context.Context, c Container) error {
	fail := func(err error) error { return newErr("run init", p.sb.ID(), c.Name, err) }
	if err := p.create(ctx, c, 0); err != nil {
		return err
	}
	if err := p.sb.StartContainer(ctx, c.Name); err != nil {
		return fail(err)
	}
	policy := p.spec.policyOf(c, true)
	var delay time.Duration
	for {
		es, err := p.sb.Wait(ctx, c.Name)
		if err != nil {
			return fail(err)
		}
		if es.ExitCode == 0 {
			return nil
		}
		if !shouldRestart(policy, es) {
			p.initFailed(ctx)
			return fail(fmt.Errorf("%w: exit code %d (%s)", ErrInitFailed, es.ExitCode, es.Reason))
		}
		delay = p.spec.Backoff.nextDelay(delay, p.ran(c.Name))
		if err := p.restart(ctx, c, delay); err != nil {
			return fail(err)
		}
	}
}

// initFailed: an init container failed for good; the pod is Failed, and
// the sidecars already started are stopped (last first) and not restarted
// any more, as the kubelet does for a pod that can run no app container.
func (p *Pod) initFailed(ctx context.Context) {
	p.mu.Lock()
	p.failed, p.completing = true, true
	p.mu.Unlock()
	_ = p.save(false)
	p.sidecarRestarts.Wait()
	p.stopSidecars(ctx, time.Now().Add(p.spec.Grace))
}

// runSidecar starts a sidecar, hands it to its supervisor (restarts with
// back-off, whatever the exit) and waits until it started: postStart
// returned and its startup probe, if any, succeeded.
func (p *Pod) runSidecar(ctx context.Context, c Container) error {
	fail := func(err error) error { return newErr("run sidecar", p.sb.ID(), c.Name, err) }
	if err := p.create(ctx, c, 0); err != nil {
		return err
	}
	if err := p.start(ctx, c); err != nil {
		return fail(err)
	}
	p.supervise(ctx, c, true)
	return fail(p.waitStarted(ctx, c.Name))
}

// supervise starts the supervisor of an app container or a sidecar,
// unless Close already ended the supervision.
func (p *Pod) supervise(ctx context.Context, c Container, init bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active {
		return
	}
	p.wg.Add(1) // under p.mu with active set: never after Close's Wait began
	go func() {
		defer p.wg.Done()
		p.superviseLoop(ctx, c, init)
	}()
}

// superviseLoop restarts an app container or a sidecar per policy until
// ctx ends or the sandbox cannot run containers any more. The last app
// container to finish for good makes the pod complete (appsDone).
func (p *Pod) superviseLoop(ctx context.Context, c Container, init bool) {
	policy := p.spec.policyOf(c, init)
	var delay time.Duration
	for {
		es, err := p.sb.Wait(ctx, c.Name)
		if err == nil {
			p.ended(c.Name)
		}
		p.mu.Lock()
		completing := p.completing
		p.mu.Unlock()
		if err != nil || !shouldRestart(policy, es) || completing {
			if err == nil && !init {
				p.appsDone(ctx)
			}
			return
		}
		delay = p.spec.Backoff.nextDelay(delay, p.ran(c.Name))
		for {
			err := p.restart(ctx, c, delay)
			if err == nil {
				break
			}
			if ctx.Err() != nil || errors.Is(err, errCompleting) || p.sb.State() != sandbox.StateReady {
				return
			}
			// Like the kubelet: report it and try again after the next
			// back-off instead of giving the container up.
			p.events.emit(sandbox.Event{Type: EventContainerRestartFailed, Sandbox: p.sb.ID(), Container: c.Name, Err: err.Error()})
			delay = min(delay*2, p.spec.Backoff.Max)
		}
	}
}

// ran is how long the container's last run lasted.
func (p *Pod) ran(name string) time.Duration {
	st, _ := p.lastStatus(name)
	if st.Exit == nil || st.StartedAt.IsZero() {
		return 0
	}
	return st.Exit.Finished.Sub(st.StartedAt)
}

// lastStatus is the sandbox's status of the container or, while a restart
// replaces it, the one it had before.
func (p *Pod) lastStatus(name string) (sandbox.ContainerStatus, bool) {
	for _, c := range p.sb.Status().Containers {
		if c.Name == name {
			return c, true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.held[name]
	return st, ok
}

// restart waits out the back-off delay, then runs the container's next
// attempt the CRI's way: remove the exited one, create it again with
// Attempt+1, start it.
func (p *Pod) restart(ctx context.Context, c Container, delay time.Duration) error {
	last, _ := p.lastStatus(c.Name)
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
	sidecar := c.Sidecar() && p.inits[c.Name]
	p.mu.Lock()
	if p.completing && sidecar {
		p.mu.Unlock()
		return errCompleting
	}
	if sidecar {
		p.sidecarRestarts.Add(1)
		defer p.sidecarRestarts.Done()
	}
	p.held[c.Name] = last
	p.mu.Unlock()
	if err := p.sb.RemoveContainer(ctx, c.Name); err != nil {
		return err
	}
	if p.spec.AfterRemove != nil {
		p.spec.AfterRemove(c.Name, last.Attempt)
	}
	if err := p.create(ctx, c, last.Attempt+1); err != nil {
		return err
	}
	p.dropTermination(c.Name, last.Attempt)
	p.events.emit(sandbox.Event{Type: EventContainerRestarted, Sandbox: p.sb.ID(), Container: c.Name, Attempt: last.Attempt + 1})
	if p.inits[c.Name] && !c.Sidecar() {
		return p.sb.StartContainer(ctx, c.Name)
	}
	if err := p.start(ctx, c); err != nil {
		return err
	}
	p.mu.Lock()
	late := p.completing && c.Sidecar() && p.inits[c.Name]
	p.mu.Unlock()
	if late { // the pod began completing while this sidecar came back
		p.stopContainer(ctx, c, time.Now().Add(p.spec.Grace))
	}
	return nil
}
