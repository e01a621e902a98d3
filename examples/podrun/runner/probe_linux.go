//go:build linux

package runner

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

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

// probeLoop runs one probe for one run of a container, like kubelet's
// prober worker: first after initialDelaySeconds, then every periodSeconds;
// successThreshold/failureThreshold consecutive results flip the state.
func (r *podRun) probeLoop(ctx context.Context, name string, p *manifest.Probe, liveness bool) {
	defer r.probes.Done()
	kind := "Readiness"
	if liveness {
		kind = "Liveness"
	}
	if !sleep(ctx, p.InitialDelay) {
		return
	}
	successes, failures := 0, 0
	for {
		err := r.probeOnce(ctx, name, p)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			successes, failures = successes+1, 0
			if !liveness && successes >= p.SuccessThreshold {
				r.setReady(name, true)
			}
		} else {
			successes, failures = 0, failures+1
			r.out.event(name, "Unhealthy", "%s probe failed (%d/%d): %v", kind, failures, p.FailureThreshold, err)
			if failures >= p.FailureThreshold {
				if !liveness {
					r.setReady(name, false)
				} else {
					r.killUnhealthy(ctx, name)
					return
				}
			}
		}
		if !sleep(ctx, p.Period) {
			return
		}
	}
}

func (r *podRun) setReady(name string, ready bool) {
	r.mu.Lock()
	was := r.ready[name]
	r.ready[name] = ready
	r.mu.Unlock()
	if ready && !was {
		r.out.event(name, "Ready", "readiness probe passed")
	}
}

// killUnhealthy stops a container whose liveness probe failed; the
// sandbox's supervisor restarts it per restartPolicy, with back-off.
func (r *podRun) killUnhealthy(ctx context.Context, name string) {
	// The kubelet layer kills it (preStop hook of any kind, grace period)
	// and announces it with a Killing event.
	why := fmt.Sprintf("failed liveness probe, will be restarted per restartPolicy %s", r.pod.RestartPolicy)
	if err := r.kp.Kill(ctx, name, why); err != nil && ctx.Err() == nil {
		r.out.event(name, "KillFailed", "%v", err)
	}
}

// probeOnce runs the probe with its timeout. nil means success.
func (r *podRun) probeOnce(ctx context.Context, name string, p *manifest.Probe) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	switch p.Kind {
	case manifest.ProbeExec:
		var out bytes.Buffer
		es, err := r.sb.Exec(ctx, name, sandbox.ExecSpec{Args: p.Command, Stdout: &out, Stderr: &out})
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("command timed out after %s", p.Timeout)
		case err != nil:
			return err
		case es.ExitCode != 0:
			if msg := strings.TrimSpace(out.String()); msg != "" {
				return fmt.Errorf("command %q exited %d: %s", p.Command, es.ExitCode, msg)
			}
			return fmt.Errorf("command %q exited %d", p.Command, es.ExitCode)
		}
		return nil
	case manifest.ProbeTCP:
		c, err := r.dial(ctx, "tcp", net.JoinHostPort(p.Host, strconv.Itoa(p.Port)))
		if err != nil {
			return err
		}
		return c.Close()
	case manifest.ProbeHTTP:
		return r.httpProbe(ctx, p)
	}
	return fmt.Errorf("unknown probe kind %q", p.Kind)
}

// dial connects from inside the pod's network namespace: the socket is
// created on a thread that nsjoin.Do moved into the namespace (and moves
// back, or retires, afterwards).
func (r *podRun) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if r.netns == nil { // hostNetwork
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	var conn net.Conn
	err := nsjoin.Do(r.netns, func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		conn = c
		return err
	})
	return conn, err
}

func (r *podRun) httpProbe(ctx context.Context, p *manifest.Probe) error {
	tr := &http.Transport{
		DialContext:       r.dial,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // kubelet does not verify probe certificates
	}
	defer tr.CloseIdleConnections()
	scheme := strings.ToLower(p.Scheme)
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), p.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/podrun")
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe %s: status %d", url, resp.StatusCode)
	}
	return nil
}

func describeProbe(p *manifest.Probe) string {
	var what string
	switch p.Kind {
	case manifest.ProbeExec:
		what = fmt.Sprintf("%q", p.Command)
	case manifest.ProbeTCP:
		what = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	case manifest.ProbeHTTP:
		what = fmt.Sprintf("%s://%s%s", strings.ToLower(p.Scheme), net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), p.Path)
	}
	return fmt.Sprintf("%s delay=%s period=%s timeout=%s success=%d failure=%d",
		what, p.InitialDelay, p.Period, p.Timeout, p.SuccessThreshold, p.FailureThreshold)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
