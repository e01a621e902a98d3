//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func TestStopGracePeriod(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "grace"))
	ev := sb.Events(64)
	run(t, sb, ctr(rootfs, "polite", "term", "graceful"))
	run(t, sb, ctr(rootfs, "stubborn", "term", "ignore"))
	for _, n := range []string{"polite", "stubborn"} {
		eventually(t, n+" ready", func() bool { return strings.Contains(logOf(t, sb, n), "ready") })
	}
	if st := sb.Status(); st.Phase != PodRunning {
		t.Fatalf("phase %s", st.Phase)
	}
	if err := sb.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	st := sb.Status()
	byName := map[string]ContainerStatus{}
	for _, c := range st.Containers {
		byName[c.Name] = c
	}
	if p := byName["polite"]; p.State != ContainerTerminated || p.Exit.ExitCode != 0 || p.Reason != ReasonCompleted {
		t.Fatalf("polite: %+v %+v", p, p.Exit)
	}
	if !strings.Contains(logOf(t, sb, "polite"), "got SIGTERM") {
		t.Fatalf("polite did not see SIGTERM: %q", logOf(t, sb, "polite"))
	}
	s := byName["stubborn"]
	if s.State != ContainerTerminated || s.Exit.Signal != 9 || s.Reason != ReasonKilledAfterGrace {
		t.Fatalf("stubborn: %+v %+v", s, s.Exit)
	}
	if ran := s.Exit.Finished.Sub(s.StartedAt); ran < time.Second {
		t.Fatalf("stubborn killed before the grace period: ran %v", ran)
	}
	if sb.State() != StateStopped {
		t.Fatalf("state %s", sb.State())
	}
	var types []EventType
	for len(ev) > 0 {
		types = append(types, (<-ev).Type)
	}
	if len(types) == 0 || types[len(types)-1] != EventSandboxStopped {
		t.Fatalf("events %v", types)
	}
}

func TestInitContainersAndRestartPolicies(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "restart")
	cfg.Volumes = []Volume{{Name: "v"}}
	sb := mustCreate(t, cfg)
	vol := []Mount{{Destination: "/v", Volume: "v"}}
	withVol := func(s ContainerSpec) ContainerSpec { s.Mounts = vol; return s }
	pod := PodSpec{
		InitContainers: []ContainerSpec{
			withVol(ctr(rootfs, "init1", "write", "/v/order1", "1")),
			// Fails twice, then succeeds: retried (OnFailure) with back-off.
			withVol(ctr(rootfs, "init2", "count-exit", "/v/init2", "3")),
		},
		Containers: []ContainerSpec{
			withVol(ctr(rootfs, "always", "count-exit", "/v/always", "1000")),
			withVol(ctr(rootfs, "onfail", "count-exit", "/v/onfail", "3")),
			withVol(ctr(rootfs, "never", "exit", "3")),
		},
		RestartPolicy: RestartOnFailure,
	}
	pod.Containers[0].RestartPolicy = RestartAlways
	pod.Containers[2].RestartPolicy = RestartNever
	ev := sb.Events(4096)
	t.Cleanup(func() {
		if t.Failed() {
			for len(ev) > 0 {
				if e := <-ev; e.Type == EventRestartFailed {
					t.Logf("restart failed: %s: %s", e.Container, e.Err)
				}
			}
		}
	})
	if err := sb.Run(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(sb.Dir(), "volumes", "v")
	if b, _ := os.ReadFile(filepath.Join(vdir, "init2")); string(b) != "x\nx\nx\n" {
		t.Fatalf("init2 ran %q", b)
	}
	st := sb.Status()
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
		c := statusOf(sb, "onfail")
		return c.State == ContainerTerminated && c.Exit.ExitCode == 0
	})
	if n := count("onfail"); n != 3 {
		t.Fatalf("onfail ran %d times", n)
	}
	// While "always" crash-loops the pod stays Running: an exit its
	// supervisor will restart is Waiting (CrashLoopBackOff) at once, never
	// Terminated in between (that made the phase Failed for a moment).
	var phases []PodPhase
	eventually(t, "always restarted 4 times", func() bool {
		if p := sb.Status().Phase; p != PodRunning {
			phases = append(phases, p)
		}
		return count("always") >= 5
	})
	if len(phases) > 0 {
		t.Errorf("pod phase left Running while a container crash-looped: %v", phases)
	}
	if c := statusOf(sb, "never"); c.RestartCount != 0 || c.State != ContainerTerminated || c.Exit.ExitCode != 3 || c.Reason != ReasonError {
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
		case EventContainerExited:
			exited = e.Exit.Finished
		case EventContainerRestart:
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
	if st := sb.Status(); st.Phase != PodRunning {
		t.Fatalf("phase %s", st.Phase)
	}
	if err := sb.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}

func statusOf(sb *Sandbox, name string) ContainerStatus {
	for _, c := range sb.Status().Containers {
		if c.Name == name {
			return c
		}
	}
	return ContainerStatus{}
}

func TestInitContainerFailureFailsPod(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "initfail"))
	err := sb.Run(context.Background(), PodSpec{
		InitContainers: []ContainerSpec{ctr(rootfs, "bad", "exit", "7")},
		Containers:     []ContainerSpec{ctr(rootfs, "app", "sleep")},
		RestartPolicy:  RestartNever,
	})
	if !errors.Is(err, ErrInitFailed) {
		t.Fatalf("err %v", err)
	}
	if st := sb.Status(); st.Phase != PodFailed || len(st.Containers) != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestExec(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "exec"))
	run(t, sb, ctr(rootfs, "main", "sleep"))
	var out bytes.Buffer
	es, err := sb.Exec(context.Background(), "main", ExecSpec{Args: []string{"/payload", "hostname"}, Stdout: &out})
	if err != nil || es.ExitCode != 0 || strings.TrimSpace(out.String()) != "exec" {
		t.Fatalf("exec: %v %+v %q", err, es, out.String())
	}
	es, err = sb.Exec(context.Background(), "main", ExecSpec{Args: []string{"/payload", "exit", "42"}})
	if err != nil || es.ExitCode != 42 {
		t.Fatalf("exec exit: %v %+v", err, es)
	}
}
