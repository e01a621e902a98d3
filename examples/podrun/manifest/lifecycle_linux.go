//go:build linux

package manifest

import (
	"path"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// DefaultTerminationMessagePath is what the API server fills in.
const DefaultTerminationMessagePath = "/dev/termination-log"

// lifecycle converts what the kubelet does around a container's runs:
// sidecar restart policy, probes, postStart/preStop hooks and the
// termination message. Probes and hooks are only for app containers and
// sidecars, as the API server requires.
func (c *converter) lifecycle(field string, in *kubeapi.Container, pod *kubeapi.PodSpec, ct *Container, init bool) {
	s := &ct.Spec
	if p := in.RestartPolicy; p != nil {
		switch {
		case !init: // an app container's (alpha in Kubernetes): the field check reports it
		case *p != kubeapi.ContainerRestartPolicyAlways:
			c.bad(field+".restartPolicy", "%q: only Always (a sidecar) is allowed on an init container", *p)
		default:
			s.RestartPolicy = kubelet.RestartAlways
		}
	}
	c.termination(field, in, ct)
	if init && !s.Sidecar() {
		for name, set := range map[string]bool{"livenessProbe": in.LivenessProbe != nil, "readinessProbe": in.ReadinessProbe != nil,
			"startupProbe": in.StartupProbe != nil, "lifecycle": in.Lifecycle != nil} {
			if set {
				c.bad(field+"."+name, "may only be set on an init container with restartPolicy: Always (a sidecar)")
			}
		}
		return
	}
	ct.Liveness = c.probe(field+".livenessProbe", in.LivenessProbe, ct, true)
	ct.Readiness = c.probe(field+".readinessProbe", in.ReadinessProbe, ct, false)
	s.LivenessProbe, s.ReadinessProbe = kubeletProbe(ct.Liveness), kubeletProbe(ct.Readiness)
	if sp := c.probe(field+".startupProbe", in.StartupProbe, ct, false); sp != nil {
		if sp.SuccessThreshold != 1 {
			c.bad(field+".startupProbe.successThreshold", "must be 1 for a startup probe (got %d)", sp.SuccessThreshold)
		}
		s.StartupProbe = kubeletProbe(sp)
	}
	grace := int64(DefaultGrace / time.Second)
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if lc := in.Lifecycle; lc != nil {
		s.PostStart = c.hook(field+".lifecycle.postStart", lc.PostStart, ct, grace)
		if h := c.hook(field+".lifecycle.preStop", lc.PreStop, ct, grace); h != nil {
			if h.Exec != nil {
				s.PreStop = h.Exec // the exec form, as before
			} else {
				s.PreStopHandler = h
			}
		}
	}
}

// termination converts the termination message fields, with the API
// server's default path.
func (c *converter) termination(field string, in *kubeapi.Container, ct *Container) {
	s := &ct.Spec
	s.TerminationMessagePath = in.TerminationMessagePath
	if s.TerminationMessagePath == "" {
		s.TerminationMessagePath = DefaultTerminationMessagePath
	}
	if p := s.TerminationMessagePath; !path.IsAbs(p) || path.Clean(p) != p {
		c.bad(field+".terminationMessagePath", "%q is not a clean absolute path", p)
	} // a missing mount point is fine anywhere, also in image: host (the sandbox overlays it)
	switch p := in.TerminationMessagePolicy; p {
	case "", kubeapi.TerminationMessageReadFile, kubeapi.TerminationMessageFallbackToLogsOnError:
		s.TerminationMessagePolicy = kubelet.TerminationMessagePolicy(p)
	default:
		c.bad(field+".terminationMessagePolicy", "%q (want File or FallbackToLogsOnError)", p)
	}
}

// hook converts a postStart or preStop handler: exactly one of exec,
// httpGet, tcpSocket (accepted, and failing when run, as in the kubelet)
// and sleep (0 to terminationGracePeriodSeconds).
func (c *converter) hook(field string, in *kubeapi.LifecycleHandler, ct *Container, grace int64) *kubelet.Handler {
	if in == nil {
		return nil
	}
	n := 0
	var h kubelet.Handler
	if in.Exec != nil {
		n++
		h.Exec = in.Exec.Command
		if len(in.Exec.Command) == 0 {
			c.bad(field+".exec.command", "empty")
		}
	}
	if in.HTTPGet != nil {
		n++
		p := &Probe{}
		c.httpProbe(field+".httpGet", in.HTTPGet, ct, p)
		h.HTTPGet = kubeletHandler(p).HTTPGet
	}
	if in.TCPSocket != nil {
		n++
		host, port := c.probeTarget(field+".tcpSocket", in.TCPSocket.Host, in.TCPSocket.Port, ct)
		h.TCPSocket = &kubelet.TCPSocketAction{Host: host, Port: port}
	}
	if in.Sleep != nil {
		n++
		if in.Sleep.Seconds < 0 || in.Sleep.Seconds > grace {
			c.bad(field+".sleep.seconds", "%d: must be between 0 and terminationGracePeriodSeconds (%d)", in.Sleep.Seconds, grace)
		}
		d := time.Duration(in.Sleep.Seconds) * time.Second
		h.Sleep = &d
	}
	if n != 1 {
		c.bad(field, "exactly one of exec, httpGet, tcpSocket, sleep is required (found %d)", n)
	}
	return &h
}

// kubeletProbe is the kubelet's form of a converted probe (nil: none),
// which runs it.
func kubeletProbe(p *Probe) *kubelet.Probe {
	if p == nil {
		return nil
	}
	return &kubelet.Probe{Handler: kubeletHandler(p), InitialDelay: p.InitialDelay, Period: p.Period,
		Timeout: p.Timeout, SuccessThreshold: p.SuccessThreshold, FailureThreshold: p.FailureThreshold}
}

// kubeletHandler is the kubelet's form of a converted probe's check.
func kubeletHandler(p *Probe) kubelet.Handler {
	switch p.Kind {
	case ProbeExec:
		return kubelet.Handler{Exec: p.Command}
	case ProbeTCP:
		return kubelet.Handler{TCPSocket: &kubelet.TCPSocketAction{Host: p.Host, Port: p.Port}}
	case ProbeHTTP:
		return kubelet.Handler{HTTPGet: &kubelet.HTTPGetAction{Scheme: p.Scheme, Host: p.Host, Port: p.Port, Path: p.Path, Headers: p.Headers}}
	}
	return kubelet.Handler{}
}

// lifecycleRules are the field rules of the lifecycle fields of a
// container list (c is its pattern prefix plus "."): probes and hooks on
// both lists (the converter refuses them on init containers that are not
// sidecars), restartPolicy on init containers.
func lifecycleRules(add func(ruleKind, string, ...string), c string, init bool) {
	p := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = c + n
		}
		return out
	}
	add(leaf, "", p("terminationMessagePath", "terminationMessagePolicy")...)
	if init {
		add(leaf, "", p("restartPolicy")...)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		add(descend, "", p(probe, probe+".exec", probe+".tcpSocket", probe+".httpGet",
			probe+".httpGet.httpHeaders")...)
		add(leaf, "", p(probe+".exec.command", probe+".tcpSocket.port", probe+".tcpSocket.host",
			probe+".httpGet.path", probe+".httpGet.port", probe+".httpGet.host", probe+".httpGet.scheme",
			probe+".httpGet.httpHeaders.name", probe+".httpGet.httpHeaders.value",
			probe+".initialDelaySeconds", probe+".periodSeconds", probe+".timeoutSeconds",
			probe+".failureThreshold", probe+".successThreshold")...)
	}
	for _, hook := range []string{"lifecycle.postStart", "lifecycle.preStop"} {
		add(descend, "", p(hook, hook+".exec", hook+".httpGet", hook+".httpGet.httpHeaders", hook+".tcpSocket", hook+".sleep")...)
		add(leaf, "", p(hook+".exec.command", hook+".httpGet.path", hook+".httpGet.port", hook+".httpGet.host",
			hook+".httpGet.scheme", hook+".httpGet.httpHeaders.name", hook+".httpGet.httpHeaders.value",
			hook+".tcpSocket.port", hook+".tcpSocket.host", hook+".sleep.seconds")...)
	}
}
