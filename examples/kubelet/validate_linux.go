//go:build linux

package kubelet

import (
	"fmt"
	"path"
	"strings"

	"github.com/podkit/podkit/sandbox"
)

// TerminationMessagePolicy is where a container's termination message
// comes from.
type TerminationMessagePolicy string

// Termination message policies.
const (
	TerminationMessageFile                  TerminationMessagePolicy = "File"
	TerminationMessageFallbackToLogsOnError TerminationMessagePolicy = "FallbackToLogsOnError"
)

// validateLifecycle checks sidecars, probes, hooks and termination
// messages as the API server would, before anything is created.
func (s PodSpec) validateLifecycle(pod string) error {
	for i, c := range s.InitContainers {
		f := fmt.Sprintf("initContainers[%d]", i)
		if c.RestartPolicy != "" && !c.Sidecar() {
			return fieldErr(pod, c.Name, f+".restartPolicy", "%q: only Always (a sidecar) is allowed on an init container", c.RestartPolicy)
		}
		if !c.Sidecar() {
			for field, set := range map[string]bool{"startupProbe": c.StartupProbe != nil,
				"livenessProbe": c.LivenessProbe != nil, "readinessProbe": c.ReadinessProbe != nil,
				"lifecycle.postStart": c.PostStart != nil, "lifecycle.preStop": c.PreStopHandler != nil || len(c.PreStop) > 0} {
				if set {
					return fieldErr(pod, c.Name, f+"."+field, "may not be set on an init container that is not a sidecar (restartPolicy: Always)")
				}
			}
		}
		if err := s.validateContainer(pod, f, c); err != nil {
			return err
		}
	}
	for i, c := range s.Containers {
		if err := s.validateContainer(pod, fmt.Sprintf("containers[%d]", i), c); err != nil {
			return err
		}
	}
	return nil
}

func (s PodSpec) validateContainer(pod, f string, c Container) error {
	bad := func(field, format string, a ...any) error { return fieldErr(pod, c.Name, f+"."+field, format, a...) }
	if c.PostStart != nil {
		if err := s.validateHandler(bad, "lifecycle.postStart", *c.PostStart, true); err != nil {
			return err
		}
	}
	if c.PreStopHandler != nil {
		if len(c.PreStop) > 0 {
			return bad("lifecycle.preStop", "both PreStop and PreStopHandler are set")
		}
		if err := s.validateHandler(bad, "lifecycle.preStop", *c.PreStopHandler, true); err != nil {
			return err
		}
	}
	for _, pr := range []struct {
		field string
		probe *Probe
	}{{"startupProbe", c.StartupProbe}, {"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}} {
		if err := s.validateProbe(bad, pr.field, pr.probe); err != nil {
			return err
		}
	}
	if p := c.TerminationMessagePath; p != "" {
		if !path.IsAbs(p) || path.Clean(p) != p || strings.Contains(p, "\x00") {
			return bad("terminationMessagePath", "%q is not a clean absolute path", p)
		}
		if len(p) > 4096 {
			return bad("terminationMessagePath", "longer than 4096 bytes")
		}
	}
	switch c.TerminationMessagePolicy {
	case "", TerminationMessageFile, TerminationMessageFallbackToLogsOnError:
	default:
		return bad("terminationMessagePolicy", "%q (want File or FallbackToLogsOnError)", c.TerminationMessagePolicy)
	}
	return nil
}

// validateProbe checks a probe's check and timing: no negative field, a
// successThreshold of 1 for startup and liveness probes (as the API
// server requires; readiness may ask for more).
func (s PodSpec) validateProbe(bad func(string, string, ...any) error, f string, pr *Probe) error {
	if pr == nil {
		return nil
	}
	if err := s.validateHandler(bad, f, pr.Handler, false); err != nil {
		return err
	}
	for _, v := range []struct {
		name string
		n    int64
	}{{"initialDelaySeconds", int64(pr.InitialDelay)}, {"periodSeconds", int64(pr.Period)}, {"timeoutSeconds", int64(pr.Timeout)},
		{"successThreshold", int64(pr.SuccessThreshold)}, {"failureThreshold", int64(pr.FailureThreshold)}} {
		if v.n < 0 {
			return bad(f+"."+v.name, "%d is negative", v.n)
		}
	}
	if f != "readinessProbe" && pr.SuccessThreshold != 0 && pr.SuccessThreshold != 1 {
		return bad(f+".successThreshold", "must be 1 (got %d)", pr.SuccessThreshold)
	}
	return nil
}

// validateHandler checks one action: exactly one kind, sleep only in
// hooks and within the grace period, usable ports and paths.
func (s PodSpec) validateHandler(bad func(string, string, ...any) error, f string, h Handler, hook bool) error {
	n := 0
	for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.Sleep != nil} {
		if set {
			n++
		}
	}
	kinds := "exec, httpGet, tcpSocket"
	if hook {
		kinds += ", sleep"
	}
	if n != 1 {
		return bad(f, "exactly one of %s is required (found %d)", kinds, n)
	}
	port := func(field string, p int, host string) error {
		if p < 1 || p > 65535 {
			return bad(f+field+".port", "%d out of range 1-65535", p)
		}
		if host != "" && !isIP(host) {
			return bad(f+field+".host", "%q is not an IP address", host)
		}
		return nil
	}
	switch {
	case h.Exec != nil && len(h.Exec) == 0:
		return bad(f+".exec.command", "empty")
	case h.Sleep != nil && !hook:
		return bad(f+".sleep", "only lifecycle hooks may sleep")
	case h.Sleep != nil && (*h.Sleep < 0 || *h.Sleep > s.Grace):
		return bad(f+".sleep.seconds", "%s: must be between 0 and the grace period (%s)", *h.Sleep, s.Grace)
	case h.TCPSocket != nil:
		return port(".tcpSocket", h.TCPSocket.Port, h.TCPSocket.Host)
	case h.HTTPGet != nil:
		if sc := h.HTTPGet.Scheme; sc != "" && sc != "HTTP" && sc != "HTTPS" {
			return bad(f+".httpGet.scheme", "%q (want HTTP or HTTPS)", sc)
		}
		return port(".httpGet", h.HTTPGet.Port, h.HTTPGet.Host)
	}
	return nil
}

func fieldErr(pod, ctr, field, format string, a ...any) error {
	return newErr("validate", pod, ctr, &FieldError{Field: field, Msg: fmt.Sprintf(format, a...), Err: sandbox.ErrInvalidConfig})
}
