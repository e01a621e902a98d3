//go:build linux

package kubelet

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

// Handler is a lifecycle hook's action (postStart, preStop) or a probe's
// check: exactly one field is set. Sleep is for hooks only.
type Handler struct {
	Exec      []string         `json:"exec,omitempty"` // run in the container (Exec)
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	// Sleep pauses the hook (Kubernetes' sleep action); nil: not a sleep.
	Sleep *time.Duration `json:"sleep,omitempty"`
}

// HTTPGetAction is an HTTP GET dialled from inside the pod's network
// namespace (from the host's with host networking).
type HTTPGetAction struct {
	Scheme  string            `json:"scheme,omitempty"` // HTTP (default) or HTTPS, not verified
	Host    string            `json:"host,omitempty"`   // IP address; default the pod IP (127.0.0.1 without one)
	Port    int               `json:"port"`
	Path    string            `json:"path,omitempty"` // default /
	Headers map[string]string `json:"headers,omitempty"`
}

// TCPSocketAction is a TCP connect, dialled like HTTPGetAction. As a
// lifecycle hook it is accepted and fails when run, as in the kubelet
// (Kubernetes keeps the field only for compatibility).
type TCPSocketAction struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port"`
}

// Probe is a startup, liveness or readiness probe with Kubernetes'
// timing; zero fields take Kubernetes' defaults (period 10s, timeout 1s,
// thresholds 1 and 3). InitialDelay counts from the run's start.
type Probe struct {
	Handler
	InitialDelay     time.Duration `json:"initialDelay,omitempty"`
	Period           time.Duration `json:"period,omitempty"`
	Timeout          time.Duration `json:"timeout,omitempty"`
	SuccessThreshold int           `json:"successThreshold,omitempty"` // must be 1 but for a readiness probe
	FailureThreshold int           `json:"failureThreshold,omitempty"`
}

func (p Probe) withDefaults() Probe {
	if p.Period <= 0 {
		p.Period = 10 * time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = time.Second
	}
	if p.SuccessThreshold <= 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = 3
	}
	return p
}

// errTCPHook is the kubelet's answer to a tcpSocket lifecycle hook.
var errTCPHook = errors.New("invalid handler: tcpSocket is not supported as a lifecycle hook (kept for compatibility only)")

// runHook runs a postStart or preStop action to its end or ctx's.
func (p *Pod) runHook(ctx context.Context, name string, h *Handler) error {
	switch {
	case h.Sleep != nil:
		t := time.NewTimer(*h.Sleep)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("sleep %s interrupted: %w", *h.Sleep, ctx.Err())
		}
	case h.TCPSocket != nil:
		return errTCPHook
	case h.HTTPGet != nil:
		// The kubelet counts only transport errors for hooks, not the status.
		_, err := p.httpGet(ctx, h.HTTPGet)
		return err
	}
	return p.exec(ctx, name, h.Exec)
}

// check runs one probe attempt with its timeout; nil means success.
func (p *Pod) check(ctx context.Context, name string, pr Probe) error {
	ctx, cancel := context.WithTimeout(ctx, pr.Timeout)
	defer cancel()
	switch {
	case pr.TCPSocket != nil:
		c, err := p.dial(ctx, "tcp", net.JoinHostPort(p.hostOr(pr.TCPSocket.Host), strconv.Itoa(pr.TCPSocket.Port)))
		if err != nil {
			return err
		}
		return c.Close()
	case pr.HTTPGet != nil:
		code, err := p.httpGet(ctx, pr.HTTPGet)
		if err == nil && (code < 200 || code >= 400) {
			err = fmt.Errorf("HTTP probe failed with statuscode: %d", code)
		}
		return err
	}
	err := p.exec(ctx, name, pr.Exec)
	if ctx.Err() != nil {
		return fmt.Errorf("command %q timed out after %s", pr.Exec, pr.Timeout)
	}
	return err
}

// exec runs a command in the container; a non-zero exit is an error
// carrying the command's output.
func (p *Pod) exec(ctx context.Context, name string, args []string) error {
	var out bytes.Buffer
	es, err := p.sb.Exec(ctx, name, sandbox.ExecSpec{Args: args, Stdout: &out, Stderr: &out})
	if err != nil {
		return err
	}
	if es.ExitCode != 0 {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 256 {
			msg = msg[:256] + "..."
		}
		return fmt.Errorf("command %q exited %d: %s", args, es.ExitCode, msg)
	}
	return nil
}

// hostOr is the target host: h, else the pod's first IP as in the
// kubelet, else (no pod network) the pod's loopback.
func (p *Pod) hostOr(h string) string {
	switch ips := p.sb.IPs(); {
	case h != "":
		return h
	case len(ips) > 0:
		return ips[0].Addr().String()
	}
	return "127.0.0.1"
}

// httpGet performs the request and returns the status code.
func (p *Pod) httpGet(ctx context.Context, g *HTTPGetAction) (int, error) {
	tr := &http.Transport{
		DialContext:       p.dial,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // the kubelet does not verify either
	}
	defer tr.CloseIdleConnections()
	scheme, path := "http", g.Path
	if strings.EqualFold(g.Scheme, "HTTPS") {
		scheme = "https"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(p.hostOr(g.Host), strconv.Itoa(g.Port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "kube-lifecycle/podkit")
	for k, v := range g.Headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	return resp.StatusCode, nil
}

// dial connects from inside the pod's network namespace (from the host
// when the sandbox shares the host's network): the socket is created on a
// thread nsjoin.Do moved into the namespace, and stays in it.
func (p *Pod) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	pin := p.sb.Namespaces()["net"]
	if pin == "" {
		return d.DialContext(ctx, network, addr)
	}
	h, err := nsjoin.Open(pin, nsjoin.Net)
	if err != nil {
		return nil, fmt.Errorf("open the pod's network namespace: %w", err)
	}
	set, err := nsjoin.NewSet(h)
	if err != nil {
		_ = h.Close()
		return nil, err
	}
	defer set.Close()
	var conn net.Conn
	err = nsjoin.Do(set, func() error {
		c, err := d.DialContext(ctx, network, addr)
		conn = c
		return err
	})
	return conn, err
}

func isIP(s string) bool { return net.ParseIP(s) != nil }
