//go:build linux

package runner

import (
	"context"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

// watchEvents turns sandbox events into printed events, starts the probers
// of each container run and rotates its log file at each exit.
func (r *podRun) watchEvents(events <-chan sandbox.Event) {
	defer r.probes.Done()
	for ev := range events {
		switch ev.Type {
		case sandbox.EventSandboxReady:
			r.out.event("", "SandboxReady", "namespaces %v", ev.Namespaces)
		case sandbox.EventContainerStarted:
			r.out.event(ev.Container, "Started", "pid %d, attempt %d", ev.Pid, ev.Attempt)
		case kubelet.EventContainerStartedUp:
			// postStart returned, the startup probe passed: probes begin.
			if c := r.container(ev.Container); c != nil && (c.Spec.PostStart != nil || c.Spec.StartupProbe != nil) {
				r.out.event(ev.Container, "StartedUp", "postStart hook done, startup probe passed")
			}
			r.startProbes(ev.Container)
		case kubelet.EventUnhealthy, kubelet.EventKilling, kubelet.EventFailedPostStartHook, kubelet.EventFailedPreStopHook:
			r.out.event(ev.Container, string(ev.Type), "%s", ev.Err)
		case kubelet.EventContainerRestarted:
			r.out.event(ev.Container, "Restarted", "restart #%d", ev.Attempt)
		case sandbox.EventContainerExited:
			r.stopProbes(ev.Container)
			if e := ev.Exit; e != nil {
				reason := "Exited"
				if e.Reason == sandbox.ReasonOOMKilled {
					reason = "OOMKilled"
				}
				r.out.event(ev.Container, reason, "exit code %d (%s)", e.ExitCode, e.Reason)
			}
			r.logs.rotate(ev.Container)
		case sandbox.EventOrphanReaped:
			r.out.event(ev.Container, "OrphanReaped", "pause reaped pid %d", ev.Pid)
		case sandbox.EventPauseDied:
			r.out.event("", "PauseDied", "the pause process died; the pod is lost")
		case sandbox.EventSandboxStopped:
			r.out.event("", "Stopped", "all containers and the pause have exited")
		}
		switch ev.Type {
		case sandbox.EventContainerStarted, sandbox.EventContainerExited, kubelet.EventContainerRestarted, sandbox.EventPauseDied:
			select { // supervise looks at the pod now (a nil channel: never)
			case r.changed <- struct{}{}:
			default:
			}
		}
	}
	r.mu.Lock()
	for _, cancel := range r.cancel {
		cancel()
	}
	r.mu.Unlock()
}

// startProbes (re)starts the liveness and readiness probers of a container
// for its new run.
func (r *podRun) startProbes(name string) {
	c := r.container(name)
	if c == nil || c.Init && !c.Spec.Sidecar() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.cancel[name]; old != nil {
		old()
	}
	if r.stopping {
		return
	}
	if c.Readiness != nil {
		r.ready[name] = false
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel[name] = cancel
	if c.Liveness != nil {
		r.probes.Add(1)
		go r.probeLoop(ctx, name, c.Liveness, true)
	}
	if c.Readiness != nil {
		r.probes.Add(1)
		go r.probeLoop(ctx, name, c.Readiness, false)
	}
}

func (r *podRun) stopProbes(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cancel := r.cancel[name]; cancel != nil {
		cancel()
		delete(r.cancel, name)
	}
	if _, probed := r.ready[name]; probed {
		r.ready[name] = false
	}
}
