//go:build linux

package kubelet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
)

// execProbe is an exec probe of the payload, every 100ms. Exec probes get
// a long timeout: an exec takes over a second on the emulated CPU of the
// cgroup v2 VM lane.
func execProbe(failures int, args ...string) *Probe {
	return &Probe{Handler: Handler{Exec: append([]string{"/payload"}, args...)}, Period: 100 * time.Millisecond,
		Timeout: time.Minute, FailureThreshold: failures}
}

// volFile is the host path of a file in the pod's volume v.
func volFile(sb *sandbox.Sandbox, name string) string {
	return filepath.Join(sb.Dir(), "volumes", "v", name)
}

func touch(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, []byte("yes"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// eventsWith lists the messages of the events of type typ of a container.
func eventsWith(evs []sandbox.Event, typ sandbox.EventType, name string) []string {
	var out []string
	for _, e := range evs {
		if e.Type == typ && e.Container == name {
			out = append(out, e.Err)
		}
	}
	return out
}

// TestLivenessRestart: a liveness probe that keeps failing kills its
// container with the kubelet's reason; under Always it is restarted (and
// probed again on its new run), under Never it stays Terminated. Once the
// probe passes, the container keeps running.
func TestLivenessRestart(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "liveness")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	web := volCtr(rootfs, "web", "pause")
	web.LivenessProbe = execProbe(2, "cat", "/v/alive")
	never := volCtr(rootfs, "never", "pause")
	never.RestartPolicy = RestartNever
	never.LivenessProbe = execProbe(1, "exit", "3")
	p := mustNew(t, sb, PodSpec{Containers: []Container{web, never}, Backoff: testBackoff, Grace: 2 * time.Second})
	ev := p.Events(4096)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "web restarted twice by its liveness probe", func() bool { return statusOf(p, "web").RestartCount >= 2 })
	eventually(t, "never killed", func() bool { return statusOf(p, "never").State == sandbox.ContainerTerminated })
	touch(t, volFile(sb, "alive"))
	eventually(t, "web running", func() bool { c := statusOf(p, "web"); return c.State == sandbox.ContainerRunning && c.Started })
	n := statusOf(p, "web").RestartCount
	time.Sleep(time.Second) // a few periods with the probe passing
	if c := statusOf(p, "web"); c.RestartCount > n+1 || c.State != sandbox.ContainerRunning {
		// n+1: a probe already under way when the file appeared may still
		// have failed the run of the moment.
		t.Errorf("web after its probe passed: %+v (restarts before: %d)", c, n)
	}
	if c := statusOf(p, "never"); c.RestartCount != 0 || c.State != sandbox.ContainerTerminated {
		t.Errorf("never restarted: %+v", c)
	}
	evs := eventsOf(ev)
	if msgs := eventsWith(evs, EventUnhealthy, "web"); len(msgs) < 2 || !strings.HasPrefix(msgs[0], "Liveness probe failed: ") {
		t.Errorf("web Unhealthy events %q", msgs)
	}
	if msgs := eventsWith(evs, EventKilling, "web"); len(msgs) < 2 || msgs[0] != "Container web failed liveness probe, will be restarted" {
		t.Errorf("web Killing events %q", msgs)
	}
	if msgs := eventsWith(evs, EventKilling, "never"); len(msgs) != 1 || msgs[0] != "Container never failed liveness probe" {
		t.Errorf("never Killing events %q", msgs)
	}
	if err := p.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestReadinessFlip: liveness and readiness wait for the startup probe;
// then the readiness probe sets the container's Ready and the pod's, back
// and forth with the file it reads; a sidecar's tcpSocket readiness probe
// (dialled in the pod) makes it ready too. Stop makes the pod unready.
func TestReadinessFlip(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "readiness")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	srv := newPodHTTP(t, sb)
	side := volCtr(rootfs, "side", "pause")
	side.RestartPolicy = RestartAlways
	side.ReadinessProbe = &Probe{Handler: Handler{TCPSocket: &TCPSocketAction{Port: srv.port}}, Period: 100 * time.Millisecond}
	app := volCtr(rootfs, "app", "pause")
	app.StartupProbe = execProbe(1000, "cat", "/v/up")
	app.LivenessProbe = execProbe(1, "cat", "/v/up") // would kill app, if it ran before the startup probe passed
	app.ReadinessProbe = execProbe(1, "cat", "/v/ready")
	app.ReadinessProbe.SuccessThreshold = 2
	plain := volCtr(rootfs, "plain", "pause") // no probe: ready once started
	p := mustNew(t, sb, PodSpec{InitContainers: []Container{side}, Containers: []Container{app, plain}, Backoff: testBackoff, Grace: 2 * time.Second})
	ev := p.Events(4096)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "side and plain ready", func() bool { return statusOf(p, "side").Ready && statusOf(p, "plain").Ready })
	time.Sleep(500 * time.Millisecond) // the startup probe fails meanwhile
	if c, st := statusOf(p, "app"), p.Status(); c.Ready || c.Started || st.Ready {
		t.Fatalf("ready before the startup probe passed: app %+v, pod ready %v", c, st.Ready)
	}
	evs := eventsOf(ev)
	for _, m := range eventsWith(evs, EventUnhealthy, "app") {
		if !strings.HasPrefix(m, "Startup probe failed") {
			t.Fatalf("%q before the startup probe passed", m)
		}
	}
	touch(t, volFile(sb, "up"))
	eventually(t, "app started", func() bool { return statusOf(p, "app").Started })
	time.Sleep(300 * time.Millisecond)
	if c, st := statusOf(p, "app"), p.Status(); c.Ready || st.Ready || st.Phase != PodRunning {
		t.Fatalf("ready without /v/ready: app %+v, pod %s ready %v", c, st.Phase, st.Ready)
	}
	touch(t, volFile(sb, "ready"))
	eventually(t, "app and pod ready", func() bool { return statusOf(p, "app").Ready && p.Status().Ready })
	if err := os.Remove(volFile(sb, "ready")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "app unready", func() bool { return !statusOf(p, "app").Ready && !p.Status().Ready })
	touch(t, volFile(sb, "ready"))
	eventually(t, "app ready again", func() bool { return statusOf(p, "app").Ready && p.Status().Ready })
	if c := statusOf(p, "app"); c.RestartCount != 0 {
		t.Errorf("app restarted: %+v", c)
	}
	evs = append(evs, eventsOf(ev)...)
	if n := len(eventsWith(evs, EventContainerReady, "app")); n != 2 {
		t.Errorf("%d ContainerReady events for app, want 2", n)
	}
	if msgs := eventsWith(evs, EventContainerNotReady, "app"); len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Readiness probe failed: ") {
		t.Errorf("ContainerNotReady events for app %q", msgs)
	}
	if len(eventsWith(evs, EventKilling, "app")) != 0 {
		t.Errorf("app killed: events %+v", evs)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(context.Background(), 5*time.Second) }()
	eventually(t, "unready while stopping", func() bool { return !p.Status().Ready })
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestProbeTimeout: a probe that does not answer within timeoutSeconds
// fails: an httpGet readiness probe to a server that holds its requests
// keeps the container unready until the server answers; an exec liveness
// probe that hangs kills the container.
func TestProbeTimeout(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "timeout"))
	srv := newPodHTTP(t, sb)
	web := ctr(rootfs, "web", "pause")
	web.ReadinessProbe = &Probe{Handler: Handler{HTTPGet: &HTTPGetAction{Port: srv.port, Path: "/ready"}},
		Period: 100 * time.Millisecond, Timeout: 200 * time.Millisecond, FailureThreshold: 1}
	hang := ctr(rootfs, "hang", "pause")
	hang.RestartPolicy = RestartNever
	hang.LivenessProbe = &Probe{Handler: Handler{Exec: []string{"/payload", "sleep"}}, Period: 100 * time.Millisecond,
		Timeout: 300 * time.Millisecond, FailureThreshold: 1}
	p := mustNew(t, sb, PodSpec{Containers: []Container{web, hang}, Backoff: testBackoff, Grace: 2 * time.Second})
	ev := p.Events(4096)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := <-srv.hits; got != "/ready" {
		t.Fatalf("request %q", got)
	}
	eventually(t, "hang killed by its liveness probe", func() bool { return statusOf(p, "hang").State == sandbox.ContainerTerminated })
	var all []sandbox.Event
	eventually(t, "web's probe timed out twice", func() bool {
		all = append(all, eventsOf(ev)...)
		return len(eventsWith(all, EventUnhealthy, "web")) >= 2
	})
	if c := statusOf(p, "web"); c.Ready || !c.Started {
		t.Fatalf("web ready while its probe times out: %+v", c)
	}
	if m := eventsWith(all, EventUnhealthy, "web")[0]; !strings.HasPrefix(m, "Readiness probe failed: ") || !strings.Contains(m, "deadline exceeded") {
		t.Errorf("web Unhealthy %q", m)
	}
	if m := eventsWith(all, EventUnhealthy, "hang"); len(m) == 0 || !strings.Contains(m[0], "timed out after 300ms") {
		t.Errorf("hang Unhealthy %q", m)
	}
	srv.open()
	eventually(t, "web ready", func() bool { return statusOf(p, "web").Ready })
	if err := p.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestInitFailureStopsSidecars: when an init container fails for good
// (restartPolicy Never), the sidecars started before it, one running and
// one crash-looping, are stopped and not restarted any more: the pod is
// Failed. So it is when an init container cannot be created.
func TestInitFailureStopsSidecars(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "initfail"))
	side := ctr(rootfs, "side", "pause")
	side.RestartPolicy = RestartAlways
	crasher := ctr(rootfs, "crasher", "exit", "1")
	crasher.RestartPolicy = RestartAlways
	bad := ctr(rootfs, "bad", "exit", "2")
	p := mustNew(t, sb, PodSpec{InitContainers: []Container{side, crasher, bad}, Containers: []Container{ctr(rootfs, "app", "pause")},
		RestartPolicy: RestartNever, Backoff: testBackoff, Grace: 2 * time.Second})
	ev := p.Events(4096)
	if err := p.Run(context.Background()); !errors.Is(err, ErrInitFailed) {
		t.Fatalf("Run: %v", err)
	}
	if c := statusOf(p, "side"); c.State != sandbox.ContainerTerminated {
		t.Fatalf("side after the init failure: %+v", c)
	}
	before := statusOf(p, "crasher").RestartCount
	time.Sleep(3 * testBackoff.Max) // more than a back-off
	st := p.Status()
	if st.Phase != PodFailed || st.Ready {
		t.Errorf("pod %s ready %v", st.Phase, st.Ready)
	}
	for _, name := range []string{"side", "crasher"} {
		if c := statusOf(p, name); c.State != sandbox.ContainerTerminated || name == "crasher" && c.RestartCount != before {
			t.Errorf("%s after the init failure: %+v (restarts before: %d)", name, c, before)
		}
	}
	if c := statusOf(p, "app"); c.Name != "" {
		t.Errorf("app created: %+v", c)
	}
	if n := len(eventsWith(eventsOf(ev), EventContainerRestarted, "side")); n != 0 {
		t.Errorf("side restarted %d times", n)
	}

	// An init container that cannot even be created fails the pod too.
	sb2 := mustCreate(t, testConfig(t, "initfail2"))
	refused := errors.New("no root filesystem for you")
	spec := PodSpec{InitContainers: []Container{side, ctr(rootfs, "init", "true")}, Containers: []Container{ctr(rootfs, "app", "pause")},
		Backoff: testBackoff, Grace: 2 * time.Second,
		BeforeCreate: func(_ context.Context, s *sandbox.ContainerSpec) error {
			if s.Name == "init" {
				return refused
			}
			return nil
		}}
	p2 := mustNew(t, sb2, spec)
	if err := p2.Run(context.Background()); !errors.Is(err, refused) {
		t.Fatalf("Run: %v", err)
	}
	if c, ph := statusOf(p2, "side"), p2.Status().Phase; c.State != sandbox.ContainerTerminated || ph != PodFailed {
		t.Errorf("side %+v, pod %s after the init container could not be created", c, ph)
	}
}

// TestProbesAfterResume: a new manager (Close, then Resume) runs the
// probes again: readiness from not ready to ready, and a liveness failure
// restarts the container.
func TestProbesAfterResume(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "resumeprobes")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	touch(t, volFile(sb, "alive"))
	touch(t, volFile(sb, "ready"))
	app := volCtr(rootfs, "app", "pause")
	app.LivenessProbe = execProbe(1, "cat", "/v/alive")
	app.ReadinessProbe = execProbe(1, "cat", "/v/ready")
	p := New(sb, PodSpec{Containers: []Container{app}, Backoff: testBackoff, Grace: 2 * time.Second})
	if err := p.Run(context.Background()); err != nil {
		p.Close()
		t.Fatal(err)
	}
	eventually(t, "app ready", func() bool { return statusOf(p, "app").Ready })
	p.Close()
	q, err := Resume(sb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	ev := q.Events(4096)
	eventually(t, "app ready under the new manager", func() bool { return statusOf(q, "app").Ready && q.Status().Ready })
	if err := os.Remove(volFile(sb, "alive")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "app restarted by the new manager's liveness probe", func() bool { return statusOf(q, "app").RestartCount >= 1 })
	if msgs := eventsWith(eventsOf(ev), EventKilling, "app"); len(msgs) == 0 || !strings.Contains(msgs[0], "failed liveness probe") {
		t.Errorf("Killing events %q", msgs)
	}
	touch(t, volFile(sb, "alive"))
	eventually(t, "app running again", func() bool { return statusOf(q, "app").State == sandbox.ContainerRunning })
	if err := q.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
