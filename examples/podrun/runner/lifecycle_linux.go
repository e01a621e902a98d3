//go:build linux

package runner

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podkit/podkit/examples/kubelet"
)

// logFile is the CRI log file of a container's run, which the kubelet
// layer reads for terminationMessagePolicy: FallbackToLogsOnError.
func (r *podRun) logFile(name string, attempt int) string {
	return filepath.Join(r.logs.dir, name, strconv.Itoa(attempt)+".log")
}

// noteMessage prints a container's termination message once per run, as
// a TerminationMessage event (the table has no column for it; --json
// status records carry it as containers[].message).
func (r *podRun) noteMessage(c kubelet.ContainerStatus) {
	if c.Message == "" {
		return
	}
	key := c.Name + "/" + strconv.Itoa(c.RestartCount)
	r.mu.Lock()
	if r.messages == nil {
		r.messages = map[string]string{}
	}
	seen := r.messages[key] == c.Message
	r.messages[key] = c.Message
	r.mu.Unlock()
	if !seen {
		r.out.event(c.Name, "TerminationMessage", "%s", strings.TrimRight(c.Message, "\n"))
	}
}

// printLifecycle adds the kubelet-level lifecycle of a container to the
// --check plan.
func printLifecycle(w io.Writer, c kubelet.Container) {
	for _, pr := range []struct {
		kind  string
		probe *kubelet.Probe
	}{{"liveness", c.LivenessProbe}, {"readiness", c.ReadinessProbe}, {"startup", c.StartupProbe}} {
		if p := pr.probe; p != nil {
			fmt.Fprintf(w, "    %s probe: %s delay=%s period=%s timeout=%s success=%d failure=%d\n", pr.kind, describeHandler(p.Handler),
				p.InitialDelay, p.Period, p.Timeout, p.SuccessThreshold, p.FailureThreshold)
		}
	}
	if c.PostStart != nil {
		fmt.Fprintf(w, "    postStart: %s\n", describeHandler(*c.PostStart))
	}
	if c.PreStopHandler != nil {
		fmt.Fprintf(w, "    preStop: %s\n", describeHandler(*c.PreStopHandler))
	} else if len(c.PreStop) > 0 {
		fmt.Fprintf(w, "    preStop: exec %q\n", c.PreStop)
	}
	if c.TerminationMessagePath != "" {
		fmt.Fprintf(w, "    termination message: %s (%s)\n", c.TerminationMessagePath, cmp.Or(string(c.TerminationMessagePolicy), "File"))
	}
}

func describeHandler(h kubelet.Handler) string {
	switch {
	case h.Exec != nil:
		return fmt.Sprintf("exec %q", h.Exec)
	case h.HTTPGet != nil:
		g := h.HTTPGet
		return fmt.Sprintf("httpGet %s://%s%s", strings.ToLower(cmp.Or(g.Scheme, "HTTP")), net.JoinHostPort(g.Host, strconv.Itoa(g.Port)), g.Path)
	case h.TCPSocket != nil:
		return "tcpSocket " + net.JoinHostPort(h.TCPSocket.Host, strconv.Itoa(h.TCPSocket.Port))
	case h.Sleep != nil:
		return "sleep " + h.Sleep.String()
	}
	return "?"
}
