//go:build linux

package runner

import (
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/sandbox"
)

// watchEvents turns the pod's events (the sandbox's and the kubelet
// layer's) into printed events and rotates a container's log file at each
// exit.
func (r *podRun) watchEvents(events <-chan sandbox.Event) {
	defer r.watcher.Done()
	for ev := range events {
		switch ev.Type {
		case sandbox.EventSandboxReady:
			r.out.event("", "SandboxReady", "namespaces %v", ev.Namespaces)
		case sandbox.EventContainerStarted:
			r.out.event(ev.Container, "Started", "pid %d, attempt %d", ev.Pid, ev.Attempt)
		case kubelet.EventContainerStartedUp:
			// postStart returned, the startup probe passed: the kubelet
			// layer's liveness and readiness probes begin.
			if c := r.container(ev.Container); c != nil && (c.Spec.PostStart != nil || c.Spec.StartupProbe != nil) {
				r.out.event(ev.Container, "StartedUp", "postStart hook done, startup probe passed")
			}
		case kubelet.EventContainerReady:
			r.out.event(ev.Container, "Ready", "readiness probe passed")
		case kubelet.EventContainerNotReady:
			r.out.event(ev.Container, "NotReady", "%s", ev.Err)
		case kubelet.EventUnhealthy, kubelet.EventKilling, kubelet.EventFailedPostStartHook, kubelet.EventFailedPreStopHook:
			r.out.event(ev.Container, string(ev.Type), "%s", ev.Err)
		case kubelet.EventContainerRestarted:
			r.out.event(ev.Container, "Restarted", "restart #%d", ev.Attempt)
		case sandbox.EventContainerExited:
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
			if r.sb.Config().NoPause {
				r.out.event("", "Stopped", "all containers have exited")
			} else {
				r.out.event("", "Stopped", "all containers and the pause have exited")
			}
		}
		switch ev.Type {
		case sandbox.EventContainerStarted, sandbox.EventContainerExited, kubelet.EventContainerRestarted, sandbox.EventPauseDied:
			select { // supervise looks at the pod now (a nil channel: never)
			case r.changed <- struct{}{}:
			default:
			}
		}
	}
}

// container returns the manifest's container of that name.
func (r *podRun) container(name string) *manifest.Container {
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for i := range list {
			if list[i].Spec.Name == name {
				return &list[i]
			}
		}
	}
	return nil
}
