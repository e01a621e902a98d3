//go:build linux

package kubelet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

// podHTTP is an HTTP server the test runs inside the pod's network
// namespace (its listening socket is created there): a hook or probe that
// reaches it was dialled from inside the pod. Each request's path is sent
// on hits; the handler answers once release is closed.
type podHTTP struct {
	port    int
	hits    chan string
	release chan struct{}
	once    sync.Once
}

// open lets the held requests and every later one be answered.
func (ph *podHTTP) open() { ph.once.Do(func() { close(ph.release) }) }

func newPodHTTP(t *testing.T, sb *sandbox.Sandbox) *podHTTP {
	t.Helper()
	h, err := nsjoin.Open(sb.Namespaces()["net"], nsjoin.Net)
	if err != nil {
		t.Fatal(err)
	}
	set, err := nsjoin.NewSet(h)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var l net.Listener
	if err := nsjoin.Do(set, func() (err error) { l, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	ph := &podHTTP{port: l.Addr().(*net.TCPAddr).Port, hits: make(chan string, 64), release: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ph.hits <- r.URL.Path:
		default: // the test reads the first ones only
		}
		<-ph.release
	})}
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	t.Cleanup(func() {
		ph.open()
		_ = srv.Close()
		<-done
	})
	return ph
}

func volCtr(rootfs, name string, args ...string) Container {
	c := ctr(rootfs, name, args...)
	c.Mounts = []sandbox.Mount{{Destination: "/v", Volume: "v"}}
	return c
}

func eventsOf(ev <-chan sandbox.Event) []sandbox.Event {
	var out []sandbox.Event
	for len(ev) > 0 {
		out = append(out, <-ev)
	}
	return out
}

// TestSidecarsJobPod: sidecars start in order with the init containers
// (the next waits for the sidecar's postStart and startup probe), are
// restarted whatever their exit, and once the app container of a Never
// pod completes they are stopped in reverse order: the pod Succeeded.
func TestSidecarsJobPod(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "sidecars")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	first := volCtr(rootfs, "first", "pause")
	first.RestartPolicy = RestartAlways
	first.PostStart = &Handler{Exec: []string{"/payload", "write", "/v/poststart", "ok"}}
	// Exec probes get a long timeout: an exec takes over a second on the
	// emulated CPU of the cgroup v2 VM lane.
	first.StartupProbe = &Probe{Handler: Handler{Exec: []string{"/payload", "cat", "/v/poststart"}}, Period: 50 * time.Millisecond, Timeout: time.Minute}
	crasher := volCtr(rootfs, "crasher", "exit", "1")
	crasher.RestartPolicy = RestartAlways
	last := volCtr(rootfs, "last", "pause")
	last.RestartPolicy = RestartAlways
	spec := PodSpec{
		InitContainers: []Container{first, volCtr(rootfs, "init", "cat", "/v/poststart"), crasher, last},
		Containers:     []Container{volCtr(rootfs, "app", "pause")},
		RestartPolicy:  RestartNever,
		Backoff:        testBackoff,
	}
	p := mustNew(t, sb, spec)
	ev := p.Events(4096)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	if st.Phase != PodRunning || len(st.InitContainers) != 4 {
		t.Fatalf("status %+v", st)
	}
	if c := st.InitContainers[1]; c.State != sandbox.ContainerTerminated || c.Exit.ExitCode != 0 {
		t.Fatalf("init ran before the sidecar's postStart: %+v", c)
	}
	if c := statusOf(p, "first"); !c.Sidecar || !c.Started || c.State != sandbox.ContainerRunning {
		t.Fatalf("first: %+v", c)
	}
	eventually(t, "crasher restarted twice", func() bool { return statusOf(p, "crasher").RestartCount >= 2 })
	if ph := p.Status().Phase; ph != PodRunning {
		t.Fatalf("phase %s while a sidecar crash-loops", ph)
	}
	// The app completes: the sidecars are stopped, last first.
	if err := sb.StopContainer(context.Background(), "app", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod Succeeded, sidecars stopped", func() bool {
		st := p.Status()
		return st.Phase == PodSucceeded && statusOf(p, "first").State == sandbox.ContainerTerminated &&
			statusOf(p, "last").State == sandbox.ContainerTerminated
	})
	f, l := statusOf(p, "first"), statusOf(p, "last")
	if !l.Exit.Finished.Before(f.Exit.Finished) {
		t.Errorf("sidecars not stopped in reverse order: last %v, first %v", l.Exit.Finished, f.Exit.Finished)
	}
	if c := statusOf(p, "crasher"); c.State != sandbox.ContainerTerminated {
		t.Errorf("crasher after completion: %+v", c)
	}
	var order []string
	for _, e := range eventsOf(ev) {
		if e.Type == EventContainerStartedUp && e.Container == "first" || e.Type == sandbox.EventContainerStarted && e.Container == "init" {
			order = append(order, string(e.Type)+"/"+e.Container)
		}
	}
	if len(order) < 2 || order[0] != "ContainerStartedUp/first" {
		t.Errorf("order %v: init started before the sidecar had started up", order)
	}
}

// TestStartupProbeAndHooks: postStart (httpGet, dialled in the pod's
// network namespace) holds the container in Waiting until it returns; a
// startup probe that keeps failing kills the container, which is then
// restarted and, once the probe passes, Started; a failing postStart kills
// the container; preStop httpGet, sleep and tcpSocket run on Stop (the
// last fails, as in the kubelet).
func TestStartupProbeAndHooks(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "startup")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	srv := newPodHTTP(t, sb)
	web := volCtr(rootfs, "web", "pause")
	web.PostStart = &Handler{HTTPGet: &HTTPGetAction{Port: srv.port, Path: "/poststart"}}
	web.StartupProbe = &Probe{Handler: Handler{Exec: []string{"/payload", "cat", "/v/up"}}, Period: 50 * time.Millisecond,
		Timeout: time.Minute, FailureThreshold: 2}
	web.PreStopHandler = &Handler{HTTPGet: &HTTPGetAction{Port: srv.port, Path: "/prestop"}}
	badHook := volCtr(rootfs, "badhook", "pause")
	badHook.PostStart = &Handler{Exec: []string{"/payload", "exit", "3"}}
	badHook.RestartPolicy = RestartNever
	nap := 50 * time.Millisecond
	sleeper := volCtr(rootfs, "sleeper", "pause")
	sleeper.PreStopHandler = &Handler{Sleep: &nap}
	tcp := volCtr(rootfs, "tcp", "pause")
	tcp.PreStopHandler = &Handler{TCPSocket: &TCPSocketAction{Port: srv.port}}
	p := mustNew(t, sb, PodSpec{Containers: []Container{web, badHook, sleeper, tcp}, Backoff: testBackoff})
	ev := p.Events(4096)
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(context.Background()) }()
	if got := <-srv.hits; got != "/poststart" {
		t.Fatalf("first request %q", got)
	}
	if c := statusOf(p, "web"); c.State != sandbox.ContainerWaiting || c.Reason != ReasonContainerCreating || c.Started {
		t.Fatalf("web during postStart: %+v", c)
	}
	srv.open()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	eventually(t, "web killed by its startup probe and restarted", func() bool { return statusOf(p, "web").RestartCount >= 1 })
	if c := statusOf(p, "web"); c.Started {
		t.Fatalf("web started without its startup probe: %+v", c)
	}
	if err := os.WriteFile(filepath.Join(sb.Dir(), "volumes", "v", "up"), []byte("yes"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "web started", func() bool { c := statusOf(p, "web"); return c.Started && c.State == sandbox.ContainerRunning })
	eventually(t, "badhook killed", func() bool { return statusOf(p, "badhook").State == sandbox.ContainerTerminated })
	if err := p.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range eventsOf(ev) {
		seen[string(e.Type)+"/"+e.Container]++
	}
	for _, want := range []string{"Unhealthy/web", "Killing/web", "ContainerStartedUp/web", "FailedPostStartHook/badhook", "Killing/badhook", "FailedPreStopHook/tcp"} {
		if seen[want] == 0 {
			t.Errorf("no %s event (events %v)", want, seen)
		}
	}
	if seen["FailedPreStopHook/sleeper"]+seen["FailedPreStopHook/web"] != 0 || seen["ContainerStartedUp/badhook"] != 0 {
		t.Errorf("events %v", seen)
	}
	var paths []string
	for len(srv.hits) > 0 {
		paths = append(paths, <-srv.hits)
	}
	if !strings.Contains(strings.Join(paths, " "), "/prestop") {
		t.Errorf("preStop httpGet not received; requests %v", paths)
	}
}

// TestTerminationMessages: the message file (bind-mounted, capped at 4096
// bytes) and FallbackToLogsOnError (the tail of the log of a failed run).
func TestTerminationMessages(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "termmsg"))
	file := ctr(rootfs, "file", "write", "/dev/termination-log", "bye")
	file.TerminationMessagePath = "/dev/termination-log"
	big := ctr(rootfs, "big", "write", "/tmp/msg", strings.Repeat("x", 5000))
	big.TerminationMessagePath = "/tmp/msg"
	logs := ctr(rootfs, "logs", "cat", "/nonexistent")
	logs.TerminationMessagePath = "/dev/termination-log"
	logs.TerminationMessagePolicy = TerminationMessageFallbackToLogsOnError
	p := mustNew(t, sb, PodSpec{Containers: []Container{file, big, logs}, RestartPolicy: RestartNever})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod done", func() bool { ph := p.Status().Phase; return ph == PodFailed })
	if c := statusOf(p, "file"); c.Message != "bye" {
		t.Errorf("file: message %q", c.Message)
	}
	if c := statusOf(p, "big"); len(c.Message) != MaxTerminationMessage {
		t.Errorf("big: message of %d bytes", len(c.Message))
	}
	eventually(t, "log fallback", func() bool { return strings.Contains(statusOf(p, "logs").Message, "nonexistent") })
}

func TestTailLog(t *testing.T) {
	cri := "2026-01-01T00:00:00Z stdout F one\n2026-01-01T00:00:01Z stderr P tw\n2026-01-01T00:00:01Z stderr F o\n"
	if got := string(tailLog([]byte(cri), true)); got != "one\ntwo\n" {
		t.Errorf("cri tail %q", got)
	}
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("line\n")
	}
	if got := tailLog([]byte(b.String()), false); len(got) != MaxTerminationLogLines*5 {
		t.Errorf("raw tail of %d bytes", len(got))
	}
	if got := tailLog([]byte(strings.Repeat("y", 5000)), false); len(got) != MaxTerminationLogMessage {
		t.Errorf("long tail of %d bytes", len(got))
	}
}

// TestBadLifecycle: bad lifecycle fields are refused before anything is
// created, with a FieldError naming the field.
func TestBadLifecycle(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "badlc"))
	app := ctr(rootfs, "app", "sleep")
	with := func(f func(c *Container)) Container { c := ctr(rootfs, "c", "sleep"); f(&c); return c }
	long := time.Hour
	for field, spec := range map[string]PodSpec{
		"initContainers[0].restartPolicy": {InitContainers: []Container{with(func(c *Container) { c.RestartPolicy = RestartNever })}, Containers: []Container{app}},
		"initContainers[0].startupProbe": {InitContainers: []Container{with(func(c *Container) {
			c.StartupProbe = &Probe{Handler: Handler{Exec: []string{"true"}}}
		})}, Containers: []Container{app}},
		"initContainers[0].lifecycle.postStart": {InitContainers: []Container{with(func(c *Container) {
			c.PostStart = &Handler{Exec: []string{"true"}}
		})}, Containers: []Container{app}},
		"containers[1].startupProbe.successThreshold": {Containers: []Container{app, with(func(c *Container) {
			c.StartupProbe = &Probe{Handler: Handler{Exec: []string{"true"}}, SuccessThreshold: 2}
		})}},
		"containers[1].startupProbe": {Containers: []Container{app, with(func(c *Container) {
			c.StartupProbe = &Probe{Handler: Handler{Exec: []string{"true"}, TCPSocket: &TCPSocketAction{Port: 1}}}
		})}},
		"containers[1].startupProbe.sleep": {Containers: []Container{app, with(func(c *Container) {
			c.StartupProbe = &Probe{Handler: Handler{Sleep: &long}}
		})}},
		"containers[1].lifecycle.preStop.sleep.seconds": {Containers: []Container{app, with(func(c *Container) {
			c.PreStopHandler = &Handler{Sleep: &long}
		})}},
		"containers[1].lifecycle.postStart.httpGet.port": {Containers: []Container{app, with(func(c *Container) {
			c.PostStart = &Handler{HTTPGet: &HTTPGetAction{Port: 70000}}
		})}},
		"containers[1].lifecycle.postStart.httpGet.scheme": {Containers: []Container{app, with(func(c *Container) {
			c.PostStart = &Handler{HTTPGet: &HTTPGetAction{Port: 80, Scheme: "FTP"}}
		})}},
		"initContainers[0].readinessProbe": {InitContainers: []Container{with(func(c *Container) {
			c.ReadinessProbe = &Probe{Handler: Handler{Exec: []string{"true"}}}
		})}, Containers: []Container{app}},
		"containers[1].livenessProbe.successThreshold": {Containers: []Container{app, with(func(c *Container) {
			c.LivenessProbe = &Probe{Handler: Handler{Exec: []string{"true"}}, SuccessThreshold: 3}
		})}},
		"containers[1].readinessProbe.periodSeconds": {Containers: []Container{app, with(func(c *Container) {
			c.ReadinessProbe = &Probe{Handler: Handler{Exec: []string{"true"}}, Period: -time.Second}
		})}},
		"containers[1].readinessProbe.failureThreshold": {Containers: []Container{app, with(func(c *Container) {
			c.ReadinessProbe = &Probe{Handler: Handler{Exec: []string{"true"}}, FailureThreshold: -1}
		})}},
		"containers[1].livenessProbe.httpGet.port": {Containers: []Container{app, with(func(c *Container) {
			c.LivenessProbe = &Probe{Handler: Handler{HTTPGet: &HTTPGetAction{Port: 0}}}
		})}},
		"containers[1].readinessProbe.tcpSocket.host": {Containers: []Container{app, with(func(c *Container) {
			c.ReadinessProbe = &Probe{Handler: Handler{TCPSocket: &TCPSocketAction{Port: 80, Host: "example.com"}}}
		})}},
		"containers[1].livenessProbe.exec.command": {Containers: []Container{app, with(func(c *Container) {
			c.LivenessProbe = &Probe{Handler: Handler{Exec: []string{}}}
		})}},
		"containers[1].terminationMessagePath":   {Containers: []Container{app, with(func(c *Container) { c.TerminationMessagePath = "dev/x" })}},
		"containers[1].terminationMessagePolicy": {Containers: []Container{app, with(func(c *Container) { c.TerminationMessagePolicy = "Always" })}},
	} {
		p := New(sb, spec)
		err := p.Run(context.Background())
		p.Close()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, sandbox.ErrInvalidConfig) {
			t.Errorf("%s: %v", field, err)
		}
	}
	if st := sb.Status(); len(st.Containers) != 0 {
		t.Fatalf("containers created: %+v", st.Containers)
	}
}
