//go:build linux

package kubelet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
	"golang.org/x/sys/unix"
)

func TestInitContainersAndRestartPolicies(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "restart")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	vol := []sandbox.Mount{{Destination: "/v", Volume: "v"}}
	withVol := func(c Container) Container { c.Mounts = vol; return c }
	spec := PodSpec{
		InitContainers: []Container{
			withVol(ctr(rootfs, "init1", "write", "/v/order1", "1")),
			// Fails twice, then succeeds: retried (OnFailure) with back-off.
			withVol(ctr(rootfs, "init2", "count-exit", "/v/init2", "3")),
		},
		Containers: []Container{
			withVol(ctr(rootfs, "always", "count-exit", "/v/always", "1000")),
			withVol(ctr(rootfs, "onfail", "count-exit", "/v/onfail", "3")),
			withVol(ctr(rootfs, "never", "exit", "3")),
		},
		RestartPolicy: RestartOnFailure,
		Backoff:       testBackoff,
	}
	spec.Containers[0].RestartPolicy = RestartAlways
	spec.Containers[2].RestartPolicy = RestartNever
	p := mustNew(t, sb, spec)
	ev := p.Events(4096)
	t.Cleanup(func() {
		if t.Failed() {
			for len(ev) > 0 {
				if e := <-ev; e.Type == EventContainerRestartFailed {
					t.Logf("restart failed: %s: %s", e.Container, e.Err)
				}
			}
		}
	})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(sb.Dir(), "volumes", "v")
	if b, _ := os.ReadFile(filepath.Join(vdir, "init2")); string(b) != "x\nx\nx\n" {
		t.Fatalf("init2 ran %q", b)
	}
	st := p.Status()
	if len(st.InitContainers) != 2 || st.InitContainers[1].RestartCount != 2 {
		t.Fatalf("init status %+v", st.InitContainers)
	}
	if !st.InitContainers[0].Exit.Finished.Before(st.InitContainers[1].CreatedAt) {
		t.Fatal("init containers overlapped")
	}
	count := func(n string) int {
		b, _ := os.ReadFile(filepath.Join(vdir, n))
		return bytes.Count(b, []byte("\n"))
	}
	eventually(t, "onfail completes after 3 runs", func() bool {
		c := statusOf(p, "onfail")
		return c.State == sandbox.ContainerTerminated && c.Exit.ExitCode == 0
	})
	if n := count("onfail"); n != 3 {
		t.Fatalf("onfail ran %d times", n)
	}
	// While "always" crash-loops the pod stays Running: an exit its
	// supervisor will restart is Waiting (CrashLoopBackOff) at once, never
	// Terminated in between (that made the phase Failed for a moment).
	var phases []PodPhase
	eventually(t, "always restarted 4 times", func() bool {
		if ph := p.Status().Phase; ph != PodRunning {
			phases = append(phases, ph)
		}
		return count("always") >= 5
	})
	if len(phases) > 0 {
		t.Errorf("pod phase left Running while a container crash-looped: %v", phases)
	}
	if c := statusOf(p, "never"); c.RestartCount != 0 || c.State != sandbox.ContainerTerminated || c.Exit.ExitCode != 3 || c.Reason != sandbox.ReasonError {
		t.Fatalf("never: %+v", c)
	}
	// Back-off doubles from Initial (50ms) up to Max (400ms): the gap
	// between an exit of "always" and its restart is at least that long.
	var exited time.Time
	var gaps []time.Duration
	for len(ev) > 0 && len(gaps) < 5 {
		e := <-ev
		if e.Container != "always" {
			continue
		}
		switch e.Type {
		case sandbox.EventContainerExited:
			exited = e.Exit.Finished
		case EventContainerRestarted:
			gaps = append(gaps, e.Time.Sub(exited))
		}
	}
	want := []time.Duration{50, 100, 200, 400, 400}
	if len(gaps) < 4 {
		t.Fatalf("only %d restarts seen", len(gaps))
	}
	for i, g := range gaps {
		if g < want[i]*time.Millisecond {
			t.Errorf("restart %d after %v, back-off should be >= %vms", i+1, g, want[i])
		}
	}
	if st := p.Status(); st.Phase != PodRunning {
		t.Fatalf("phase %s", st.Phase)
	}
	if err := p.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if c := statusOf(p, "always"); c.State != sandbox.ContainerTerminated {
		t.Fatalf("always after Stop: %+v", c)
	}
}

func TestInitContainerFailureFailsPod(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "initfail"))
	p := mustNew(t, sb, PodSpec{
		InitContainers: []Container{ctr(rootfs, "bad", "exit", "7")},
		Containers:     []Container{ctr(rootfs, "app", "sleep")},
		RestartPolicy:  RestartNever,
	})
	err := p.Run(context.Background())
	var kerr *Error
	if !errors.Is(err, ErrInitFailed) || !errors.As(err, &kerr) || kerr.Container != "bad" {
		t.Fatalf("err %v", err)
	}
	if st := p.Status(); st.Phase != PodFailed || len(st.Containers) != 0 || len(st.InitContainers) != 1 {
		t.Fatalf("status %+v", st)
	}
}

// TestBadPodSpec: bad input is refused by Run before anything is
// created, with errors that name the container and wrap the sandbox's
// sentinels.
func TestBadPodSpec(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "bad"))
	for name, spec := range map[string]PodSpec{
		"duplicate":   {Containers: []Container{ctr(rootfs, "d", "true"), ctr(rootfs, "d", "true")}},
		"init dup":    {InitContainers: []Container{ctr(rootfs, "d", "true")}, Containers: []Container{ctr(rootfs, "d", "true")}},
		"pod policy":  {Containers: []Container{ctr(rootfs, "a", "true")}, RestartPolicy: "Sometimes"},
		"ctr policy":  {Containers: []Container{{ContainerSpec: ctr(rootfs, "a", "true").ContainerSpec, RestartPolicy: "Often"}}},
		"bad rootfs":  {Containers: []Container{ctr("relative", "a", "true")}},
		"bad command": {Containers: []Container{{ContainerSpec: sandbox.ContainerSpec{Name: "a", Rootfs: rootfs}}}},
	} {
		p := New(sb, spec)
		err := p.Run(context.Background())
		p.Close()
		var kerr *Error
		if !errors.As(err, &kerr) || !(errors.Is(err, sandbox.ErrInvalidConfig) || errors.Is(err, sandbox.ErrRootfs)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st := sb.Status(); len(st.Containers) != 0 {
		t.Fatalf("containers created: %+v", st.Containers)
	}
}

// TestKillPauseAndContainer: a killed container is restarted (policy
// Always); once the pause is killed the pod is Unknown and nothing is
// restarted any more.
func TestKillPauseAndContainer(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "kill9"))
	p := mustNew(t, sb, PodSpec{Containers: []Container{ctr(rootfs, "app", "sleep")}, Backoff: testBackoff})
	ev := p.Events(64)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	unix.Kill(statusOf(p, "app").Pid, unix.SIGKILL)
	eventually(t, "app restarted", func() bool {
		c := statusOf(p, "app")
		return c.RestartCount == 1 && c.State == sandbox.ContainerRunning
	})
	unix.Kill(sb.PausePid(), unix.SIGKILL)
	eventually(t, "pause death noticed", func() bool { return p.Status().Phase == PodUnknown })
	eventually(t, "app killed", func() bool { return statusOf(p, "app").State == sandbox.ContainerTerminated })
	seen := map[sandbox.EventType]bool{}
	for len(ev) > 0 {
		seen[(<-ev).Type] = true
	}
	for _, want := range []sandbox.EventType{sandbox.EventSandboxReady, sandbox.EventContainerStarted, sandbox.EventContainerExited, EventContainerRestarted, sandbox.EventPauseDied} {
		if !seen[want] {
			t.Errorf("no %s event", want)
		}
	}
}

// TestStopRunsPreStop: Stop runs each running container's preStop hook
// (the kubelet's job, not the runtime's) before the container is stopped.
func TestStopRunsPreStop(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "prestop")
	cfg.Volumes = []sandbox.Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	app := ctr(rootfs, "app", "term", "ignore")
	app.Mounts = []sandbox.Mount{{Destination: "/v", Volume: "v"}}
	app.PreStop = []string{"/payload", "write", "/v/prestop", "ran"}
	p := mustNew(t, sb, PodSpec{Containers: []Container{app}})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Run returns once the container started, maybe before it ignores
	// SIGTERM: a SIGTERM then would end it with an Error, not a kill.
	eventually(t, "app ignores SIGTERM", func() bool { return ignoresTERM(statusOf(p, "app").Pid) })
	if err := p.Stop(context.Background(), 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sb.Dir(), "volumes", "v", "prestop")); string(b) != "ran" {
		t.Fatalf("preStop wrote %q", b)
	}
	if c := statusOf(p, "app"); c.State != sandbox.ContainerTerminated || c.Reason != sandbox.ReasonKilledAfterGrace {
		t.Fatalf("app: %+v", c)
	}
	if st := p.Status(); st.State != sandbox.StateStopped {
		t.Fatalf("state %s", st.State)
	}
}

// ignoresTERM reports whether process pid has SIGTERM set to SIG_IGN.
func ignoresTERM(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(unix.SIGTERM-1)) != 0
		}
	}
	return false
}
