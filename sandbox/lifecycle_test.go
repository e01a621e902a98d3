//go:build linux

package sandbox

import (
	"bytes"
	"context"
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
	for _, n := range []string{"polite", "stubborn"} {
		if c := statusOf(sb, n); c.State != ContainerRunning {
			t.Fatalf("%s: %+v", n, c)
		}
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
