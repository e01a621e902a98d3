//go:build linux

package kubelet

import (
	"context"
	"fmt"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// Readiness event types, in Pod.Events: a readiness probe changed the
// container's Ready (Err says why it is not ready any more).
const (
	EventContainerReady    sandbox.EventType = "ContainerReady"
	EventContainerNotReady sandbox.EventType = "ContainerNotReady"
)

// streak counts the same probe result in a row, as the kubelet's prober
// does for its thresholds.
type streak struct {
	ok bool
	n  int
}

// add records a result and returns how many of it came in a row.
func (s *streak) add(ok bool) int {
	if s.n > 0 && s.ok == ok {
		s.n++
	} else {
		s.ok, s.n = ok, 1
	}
	return s.n
}

// probeLoop runs one probe for one run of a container, like a kubelet
// prober worker: first once InitialDelay has passed since the run
// started, then every Period (a probe that takes longer skips the ticks
// it missed), until ctx ends (the run ended, Close) or result, given
// each attempt's outcome (nil: success), returns false.
func (p *Pod) probeLoop(ctx context.Context, name string, pr Probe, result func(error) bool) {
	pr = pr.withDefaults()
	delay := pr.InitialDelay
	if st, ok := p.lastStatus(name); ok && !st.StartedAt.IsZero() {
		delay -= time.Since(st.StartedAt) // after Resume, mostly gone
	}
	if !sleep(ctx, delay) {
		return
	}
	tick := time.NewTicker(pr.Period)
	defer tick.Stop()
	for {
		err := p.check(ctx, name, pr)
		if ctx.Err() != nil || !result(err) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// startupProbe probes until the first success (the run started, and its
// liveness and readiness probes begin) or FailureThreshold failures in a
// row (the container is killed).
func (p *Pod) startupProbe(ctx context.Context, c Container) {
	pr := c.StartupProbe.withDefaults()
	var s streak
	p.probeLoop(ctx, c.Name, pr, func(err error) bool {
		if err == nil {
			p.markStarted(ctx, c)
			return false
		}
		p.emit(EventUnhealthy, c.Name, "Startup probe failed: "+err.Error())
		if s.add(false) >= pr.FailureThreshold {
			p.kill(ctx, c, "failed startup probe, will be restarted")
			return false
		}
		return true
	})
}

// startProbers starts the liveness and readiness probers of a run that
// has started; ctx is the run's (ended cancels it).
func (p *Pod) startProbers(ctx context.Context, c Container) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active || ctx.Err() != nil {
		return
	}
	for _, f := range []func(context.Context, Container){p.livenessProbe, p.readinessProbe} {
		p.wg.Add(1) // under p.mu with active set: never after Close's Wait began
		go func() {
			defer p.wg.Done()
			f(ctx, c)
		}()
	}
}

// livenessProbe kills the container after FailureThreshold failures in a
// row, with the kubelet's reason; its supervisor then restarts it per
// policy, and the next run gets new probers.
func (p *Pod) livenessProbe(ctx context.Context, c Container) {
	if c.LivenessProbe == nil {
		return
	}
	pr := c.LivenessProbe.withDefaults()
	var s streak
	p.probeLoop(ctx, c.Name, pr, func(err error) bool {
		if err == nil {
			s.add(true)
			return true
		}
		p.emit(EventUnhealthy, c.Name, "Liveness probe failed: "+err.Error())
		if s.add(false) < pr.FailureThreshold {
			return true
		}
		why := fmt.Sprintf("Container %s failed liveness probe", c.Name)
		if p.spec.policyOf(c, p.inits[c.Name]) != RestartNever {
			why += ", will be restarted"
		}
		p.kill(ctx, c, why)
		return false
	})
}

// readinessProbe sets the run's Ready: not ready until SuccessThreshold
// successes in a row, not ready again after FailureThreshold failures.
func (p *Pod) readinessProbe(ctx context.Context, c Container) {
	if c.ReadinessProbe == nil {
		return
	}
	pr := c.ReadinessProbe.withDefaults()
	var s streak
	p.probeLoop(ctx, c.Name, pr, func(err error) bool {
		if err == nil {
			if s.add(true) >= pr.SuccessThreshold {
				p.setReady(ctx, c.Name, true, "")
			}
			return true
		}
		msg := "Readiness probe failed: " + err.Error()
		p.emit(EventUnhealthy, c.Name, msg)
		if s.add(false) >= pr.FailureThreshold {
			p.setReady(ctx, c.Name, false, msg)
		}
		return true
	})
}

// setReady records a readiness result of the run of ctx (not of a later
// one: ended cancels ctx under p.mu) and announces a change.
func (p *Pod) setReady(ctx context.Context, name string, ready bool, why string) {
	p.mu.Lock()
	r := p.runOf(name)
	changed := ctx.Err() == nil && r.ready != ready
	if changed {
		r.ready = ready
	}
	p.mu.Unlock()
	switch {
	case changed && ready:
		p.emit(EventContainerReady, name, "")
	case changed:
		p.emit(EventContainerNotReady, name, why)
	}
}
