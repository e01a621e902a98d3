//go:build linux

package runner

import (
	"fmt"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

// printStatus takes a snapshot, prints it if it changed, and returns it.
func (r *podRun) printStatus() kubelet.Status {
	st := r.kp.Status()
	rec := statusRecord{Type: "status", Time: time.Now().UTC(), Pod: r.pod.Name, Phase: string(st.Phase)}
	rec.Ready = fmt.Sprintf("%d/%d", r.readyCount(st), len(r.pod.Containers))
	rec.Status = r.kubectlStatus(st)
	rec.PodIP = podIPString(r.ips)
	for _, ip := range r.ips {
		rec.PodIPs = append(rec.PodIPs, ip.String())
	}
	for _, list := range [][]kubelet.ContainerStatus{st.InitContainers, st.Containers} {
		for _, c := range list {
			cr := containerRecord{Name: c.Name, Init: c.Init, State: string(c.State), Reason: c.Reason,
				Ready: (!c.Init || c.Sidecar) && r.isReady(c), Restarts: c.RestartCount, ImageID: r.imageID(c.Name),
				Sidecar: c.Sidecar, Started: c.Started, Message: c.Message}
			r.noteMessage(c)
			if c.Exit != nil && c.State == sandbox.ContainerTerminated {
				code := c.Exit.ExitCode
				cr.ExitCode = &code
			}
			if !c.Init {
				rec.Restarts += c.RestartCount
			}
			rec.Containers = append(rec.Containers, cr)
		}
	}
	r.out.status(rec)
	return st
}

func (r *podRun) finalStatus() { r.printStatus() }

func (r *podRun) readyCount(st kubelet.Status) int {
	n := 0
	for _, c := range st.Containers {
		if r.isReady(c) {
			n++
		}
	}
	return n
}

// isReady is the kubelet layer's Ready, and false once podrun stops the
// pod (the table says Terminating).
func (r *podRun) isReady(c kubelet.ContainerStatus) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return c.Ready && !r.stopping
}

// kubectlStatus computes the STATUS column the way kubectl prints it.
func (r *podRun) kubectlStatus(st kubelet.Status) string {
	r.mu.Lock()
	stopping := r.stopping
	r.mu.Unlock()
	if stopping && st.State != sandbox.StateStopped {
		return "Terminating"
	}
	n := len(r.pod.InitContainers)
	done := 0
	for _, c := range st.InitContainers {
		switch {
		case c.Sidecar && (c.Started || len(st.Containers) > 0):
			done++ // a sidecar counts once started, as in kubectl
		case c.State == sandbox.ContainerTerminated && c.Exit != nil && c.Exit.ExitCode == 0:
			done++
		case c.State == sandbox.ContainerTerminated:
			return "Init:" + c.Reason
		case c.State == sandbox.ContainerWaiting && c.Reason == "CrashLoopBackOff":
			return "Init:CrashLoopBackOff"
		}
	}
	if done < n {
		return fmt.Sprintf("Init:%d/%d", done, n)
	}
	if len(st.Containers) < len(r.pod.Containers) {
		if n > 0 {
			return "PodInitializing"
		}
		return "ContainerCreating"
	}
	reason := ""
	for _, c := range st.Containers {
		switch {
		case c.State == sandbox.ContainerWaiting && c.Reason != "":
			return c.Reason
		case c.State == sandbox.ContainerTerminated && c.Reason != "":
			reason = c.Reason
		}
	}
	if reason != "" && (reason != sandbox.ReasonCompleted || st.Phase != kubelet.PodRunning) {
		return reason
	}
	return string(st.Phase)
}
