//go:build linux

package manifest

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// probe converts a liveness or readiness probe, applying Kubernetes'
// defaults (period 10s, timeout 1s, success 1, failure 3).
func (c *converter) probe(field string, in *kubeapi.Probe, ct *Container, liveness bool) *Probe {
	if in == nil {
		return nil
	}
	p := &Probe{
		InitialDelay:     time.Duration(in.InitialDelaySeconds) * time.Second,
		Period:           secondsOr(in.PeriodSeconds, 10),
		Timeout:          secondsOr(in.TimeoutSeconds, 1),
		SuccessThreshold: int(intOr(in.SuccessThreshold, 1)),
		FailureThreshold: int(intOr(in.FailureThreshold, 3)),
	}
	for name, v := range map[string]int32{"initialDelaySeconds": in.InitialDelaySeconds,
		"periodSeconds": in.PeriodSeconds, "timeoutSeconds": in.TimeoutSeconds,
		"successThreshold": in.SuccessThreshold, "failureThreshold": in.FailureThreshold} {
		if v < 0 {
			c.bad(field+"."+name, "%d is negative", v)
		}
	}
	if liveness && p.SuccessThreshold != 1 {
		c.bad(field+".successThreshold", "must be 1 for a liveness probe (got %d)", p.SuccessThreshold)
	}
	h := in.ProbeHandler
	n := 0
	if h.Exec != nil {
		n++
		p.Kind, p.Command = ProbeExec, h.Exec.Command
		if len(h.Exec.Command) == 0 {
			c.bad(field+".exec.command", "empty")
		}
	}
	if h.TCPSocket != nil {
		n++
		p.Kind = ProbeTCP
		p.Host, p.Port = c.probeTarget(field+".tcpSocket", h.TCPSocket.Host, h.TCPSocket.Port, ct)
	}
	if h.HTTPGet != nil {
		n++
		c.httpProbe(field+".httpGet", h.HTTPGet, ct, p)
	}
	if n != 1 && (n > 1 || h.GRPC == nil) { // a gRPC-only probe is reported by the field check
		c.bad(field, "exactly one of exec, tcpSocket, httpGet is required (found %d)", n)
	}
	return p
}

func (c *converter) httpProbe(field string, g *kubeapi.HTTPGetAction, ct *Container, p *Probe) {
	p.Kind = ProbeHTTP
	p.Host, p.Port = c.probeTarget(field, g.Host, g.Port, ct)
	p.Path = g.Path
	if p.Path == "" {
		p.Path = "/"
	}
	if !strings.HasPrefix(p.Path, "/") {
		p.Path = "/" + p.Path
	}
	switch g.Scheme {
	case "", kubeapi.URISchemeHTTP:
		p.Scheme = "HTTP"
	case kubeapi.URISchemeHTTPS:
		p.Scheme = "HTTPS"
	default:
		c.bad(field+".scheme", "%q (want HTTP or HTTPS)", g.Scheme)
	}
	for i, hd := range g.HTTPHeaders {
		if hd.Name == "" {
			c.bad(fmt.Sprintf("%s.httpHeaders[%d].name", field, i), "empty")
			continue
		}
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		p.Headers[hd.Name] = hd.Value
	}
}

// probeTarget resolves the host (default: the pod's loopback, which is
// where the pod IP would be) and a numeric or named port.
func (c *converter) probeTarget(field, host string, port kubeapi.IntOrString, ct *Container) (string, int) {
	if host == "" {
		host = "127.0.0.1"
	} else if net.ParseIP(host) == nil {
		c.bad(field+".host", "%q: podkit pods have no DNS; use an IP address (or leave it empty)", host)
	}
	if port.Type == kubeapi.String {
		for _, cp := range ct.Ports {
			if cp.Name != "" && cp.Name == port.StrVal {
				return host, cp.Port
			}
		}
		c.bad(field+".port", "no container port named %q", port.StrVal)
		return host, 0
	}
	if port.IntVal < 1 || port.IntVal > 65535 {
		c.bad(field+".port", "%d out of range 1-65535", port.IntVal)
	}
	return host, int(port.IntVal)
}

func secondsOr(v int32, def int32) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

func intOr(v int32, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}
