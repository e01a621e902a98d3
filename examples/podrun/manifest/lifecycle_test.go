//go:build linux

package manifest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
)

const sidecarPod = `apiVersion: v1
kind: Pod
metadata:
  name: t
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 10
  initContainers:
  - name: proxy
    image: host
    command: ["sleep", "1000"]
    restartPolicy: Always
    ports: [{name: http, containerPort: 8080}]
    startupProbe:
      httpGet: {port: http, path: up}
      periodSeconds: 2
      failureThreshold: 30
    readinessProbe:
      tcpSocket: {port: 8080}
    lifecycle:
      postStart:
        httpGet: {port: 8080, path: /hello, httpHeaders: [{name: X-A, value: b}]}
      preStop:
        sleep: {seconds: 3}
    terminationMessagePath: /tmp/msg
    terminationMessagePolicy: FallbackToLogsOnError
  containers:
  - name: app
    image: host
    command: ["true"]
    lifecycle:
      postStart:
        exec: {command: ["touch", "/tmp/started"]}
      preStop:
        tcpSocket: {port: 8080}
`

func TestLifecycleMapping(t *testing.T) {
	p, err := Parse([]byte(sidecarPod), Options{})
	if err != nil {
		t.Fatal(err)
	}
	px, app := p.InitContainers[0].Spec, p.Containers[0].Spec
	if !px.Sidecar() || px.RestartPolicy != kubelet.RestartAlways {
		t.Fatalf("proxy is not a sidecar: %+v", px)
	}
	wantStartup := &kubelet.Probe{Handler: kubelet.Handler{HTTPGet: &kubelet.HTTPGetAction{Scheme: "HTTP", Host: "127.0.0.1", Port: 8080, Path: "/up"}},
		Period: 2 * time.Second, Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 30}
	if !reflect.DeepEqual(px.StartupProbe, wantStartup) {
		t.Errorf("startup probe %+v", px.StartupProbe)
	}
	if p.InitContainers[0].Readiness == nil || p.InitContainers[0].Readiness.Kind != ProbeTCP {
		t.Errorf("sidecar readiness %+v", p.InitContainers[0].Readiness)
	}
	if h := px.PostStart; h == nil || h.HTTPGet == nil || h.HTTPGet.Path != "/hello" || h.HTTPGet.Headers["X-A"] != "b" {
		t.Errorf("postStart %+v", px.PostStart)
	}
	if h := px.PreStopHandler; h == nil || h.Sleep == nil || *h.Sleep != 3*time.Second {
		t.Errorf("preStop %+v", px.PreStopHandler)
	}
	if px.TerminationMessagePath != "/tmp/msg" || px.TerminationMessagePolicy != kubelet.TerminationMessageFallbackToLogsOnError {
		t.Errorf("termination %q %q", px.TerminationMessagePath, px.TerminationMessagePolicy)
	}
	if !slices.Equal(app.PostStart.Exec, []string{"touch", "/tmp/started"}) || app.PreStopHandler.TCPSocket.Port != 8080 {
		t.Errorf("app hooks %+v %+v", app.PostStart, app.PreStopHandler)
	}
	if app.TerminationMessagePath != DefaultTerminationMessagePath {
		t.Errorf("app termination path %q", app.TerminationMessagePath)
	}
	if ps := p.PodSpec(); ps.Grace != 10*time.Second || !ps.InitContainers[0].Sidecar() {
		t.Errorf("pod spec %+v", ps)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %q", p.Warnings)
	}
}

// TestBadLifecycle: what the API server refuses is ErrInvalid, named by
// field, before anything is created.
func TestBadLifecycle(t *testing.T) {
	init := func(extra string) string {
		return pod("  initContainers:\n  - name: i\n    image: host\n    command: ['true']\n"+extra, "")
	}
	for _, tc := range []struct {
		name, doc, field string
	}{
		{"init restartPolicy", init("    restartPolicy: OnFailure"), "spec.initContainers[0].restartPolicy"},
		{"probe on init", init("    startupProbe:\n      exec: {command: ['true']}"), "spec.initContainers[0].startupProbe"},
		{"readiness on init", init("    readinessProbe:\n      exec: {command: ['true']}"), "spec.initContainers[0].readinessProbe"},
		{"hook on init", init("    lifecycle:\n      preStop:\n        exec: {command: ['true']}"), "spec.initContainers[0].lifecycle"},
		{"startup success", pod("", "    startupProbe:\n      exec: {command: ['true']}\n      successThreshold: 2"), "spec.containers[0].startupProbe.successThreshold"},
		{"two actions", pod("", "    lifecycle:\n      postStart:\n        exec: {command: ['true']}\n        sleep: {seconds: 1}"), "spec.containers[0].lifecycle.postStart"},
		{"no action", pod("", "    lifecycle:\n      postStart: {}"), "spec.containers[0].lifecycle.postStart"},
		{"long sleep", pod("  terminationGracePeriodSeconds: 5", "    lifecycle:\n      preStop:\n        sleep: {seconds: 6}"), "spec.containers[0].lifecycle.preStop.sleep.seconds"},
		{"hook named port", pod("", "    lifecycle:\n      postStart:\n        httpGet: {port: web}"), "spec.containers[0].lifecycle.postStart.httpGet.port"},
		{"message path", pod("", "    terminationMessagePath: dev/log"), "spec.containers[0].terminationMessagePath"},
		{"message policy", pod("", "    terminationMessagePolicy: Always"), "spec.containers[0].terminationMessagePolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := parseErr(t, tc.doc)
			if !errors.Is(e, ErrInvalid) || !slices.Contains(e.Fields(ErrInvalid), tc.field) {
				t.Fatalf("want ErrInvalid on %s, got %v", tc.field, e)
			}
			if !strings.Contains(e.Error(), tc.field) {
				t.Errorf("message does not name %s: %v", tc.field, e)
			}
		})
	}
	// A per-container restart policy of an app container is not supported
	// (alpha in Kubernetes).
	if e := parseErr(t, pod("", "    restartPolicy: Always")); !errors.Is(e, ErrUnsupported) {
		t.Errorf("app restartPolicy: %v", e)
	}
}
