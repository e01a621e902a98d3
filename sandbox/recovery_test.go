//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// The "manager" helper creates sandbox "rec" in RunDir os.Args[1] with the
// pause os.Args[2] and two containers from rootfs os.Args[3] that ignore
// SIGTERM, then crashes itself (SIGKILL) at point os.Args[4] or, with
// "running" ("running-dwp": DieWithParent, "running-pid": SharePID,
// "running-host": HostPID and HostIPC), after
// everything is up.
func init() {
	testharness.RegisterHelper("manager", func() int {
		runDir, pauseBin, rootfs, point := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
		crashAt(point)
		ctx := context.Background()
		cfg := Config{ID: "rec", RunDir: runDir, PauseBinary: pauseBin,
			CgroupParent: "podkit-sandbox-test", DieWithParent: point == "running-dwp", SharePID: point == "running-pid",
			HostPID: point == "running-host", HostIPC: point == "running-host"}
		if point == "create:network" {
			cfg.Network = newFakeNetwork()
		}
		b := ctr(rootfs, "b", "term", "ignore")
		b.StartPath = StartLibcontainer // one of each start path
		sb := managerSetup(ctx, cfg, ctr(rootfs, "a", "term", "ignore"), b)
		if sb == nil {
			return 1
		}
		fmt.Println("running")
		if point == "stop:stopping" {
			_ = sb.Stop(ctx, time.Minute)
		}
		for {
			time.Sleep(time.Hour)
		}
	})
}

// reapOrphans reaps the processes re-parented to the test process (it is
// a child subreaper) after a killed manager's pod was destroyed.
func reapOrphans(t *testing.T) {
	t.Helper()
	eventually(t, "orphans reaped", func() bool {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
			if errors.Is(err, unix.ECHILD) {
				return true
			}
			if pid <= 0 {
				return false
			}
		}
	})
}

func runManager(t *testing.T, point string) string {
	t.Helper()
	rootfs := testRootfs(t)
	runDir := t.TempDir() + "/run"
	cmd := testharness.HelperCmd("manager", runDir, testharness.PauseBinary(t), rootfs, point)
	out := testharness.StartWithStdout(t, cmd)
	if strings.HasPrefix(point, "running") {
		awaitRunning(t, cmd, out)
		_ = cmd.Process.Kill()
	} else if point == "stop:stopping" {
		awaitRunning(t, cmd, out)
	}
	err := cmd.Wait()
	var ee interface{ Sys() any }
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("manager did not crash: %v", err)
	}
	return runDir
}

func TestRecoverAfterManagerKilledWhileRunning(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "running")
	live, err := Reconcile(context.Background(), runDir)
	if err != nil || len(live) != 1 {
		t.Fatalf("reconcile: %v %d", err, len(live))
	}
	sb := live[0]
	st := sb.Status()
	if st.State != StateReady || len(st.Containers) != 2 {
		t.Fatalf("status after reattach: %+v", st)
	}
	for _, c := range st.Containers {
		if c.State != ContainerRunning {
			t.Fatalf("%s after reattach: %+v", c.Name, c)
		}
	}
	if c := statusOf(sb, "b"); c.StartPath != StartLibcontainer {
		t.Errorf("b re-attached as %q", c.StartPath)
	}
	for _, n := range []string{"a", "b"} {
		es, err := sb.Exec(context.Background(), n, ExecSpec{Args: []string{"/payload", "true"}})
		if err != nil || es.ExitCode != 0 {
			t.Fatalf("exec into %s after reattach: %v %+v", n, err, es)
		}
	}
	if err := sb.Stop(context.Background(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c := statusOf(sb, "a"); c.State != ContainerTerminated || c.Reason != ReasonKilledAfterGrace {
		t.Fatalf("a: %+v", c)
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	reapOrphans(t)
}

func TestRecoverAfterManagerKilledDuringCreate(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "create:namespaces")
	if _, err := Load(runDir, "rec"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("load of half-created sandbox: %v", err)
	}
	live, err := Reconcile(context.Background(), runDir)
	if err != nil || len(live) != 0 {
		t.Fatalf("reconcile: %v %d", err, len(live))
	}
	if ents, _ := os.ReadDir(runDir); len(ents) != 0 {
		t.Fatalf("left in run dir: %v", ents)
	}
	reapOrphans(t)
}

func TestRecoverAfterManagerKilledDuringStop(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "stop:stopping")
	live, err := Reconcile(context.Background(), runDir)
	if err != nil || len(live) != 1 || live[0].State() != StateStopping {
		t.Fatalf("reconcile: %v %d", err, len(live))
	}
	if err := live[0].Stop(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := live[0].Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	reapOrphans(t)
}

// TestKillPauseAndContainer: a container killed by SIGKILL is recorded as
// such; a pause killed by SIGKILL puts the sandbox in Unknown and gets
// the containers killed.
func TestKillPauseAndContainer(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "kill9"))
	ev := sb.Events(64)
	run(t, sb, ctr(rootfs, "app", "sleep"))
	run(t, sb, ctr(rootfs, "other", "sleep"))
	unix.Kill(statusOf(sb, "app").Pid, unix.SIGKILL)
	if es := waitExit(t, sb, "app"); es.ExitCode != 137 || es.Signal != unix.SIGKILL || es.Reason != ReasonError {
		t.Fatalf("app: %+v", es)
	}
	unix.Kill(sb.PausePid(), unix.SIGKILL)
	eventually(t, "pause death noticed", func() bool { return sb.State() == StateUnknown })
	eventually(t, "other killed", func() bool { return statusOf(sb, "other").State == ContainerTerminated })
	seen := map[EventType]bool{}
	for len(ev) > 0 {
		seen[(<-ev).Type] = true
	}
	for _, want := range []EventType{EventSandboxReady, EventContainerStarted, EventContainerExited, EventPauseDied} {
		if !seen[want] {
			t.Errorf("no %s event", want)
		}
	}
}

func TestDieWithParent(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "running-dwp")
	live, err := Reconcile(context.Background(), runDir)
	if err != nil || len(live) != 1 {
		t.Fatalf("reconcile: %v %d", err, len(live))
	}
	sb := live[0]
	eventually(t, "pod gone with its parent", func() bool {
		st := sb.Status()
		for _, c := range st.Containers {
			if c.State != ContainerTerminated {
				return false
			}
		}
		return st.State == StateUnknown
	})
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	reapOrphans(t)
}

// TestRecoverRewiresPauseEvents: a new manager reads the pause's orphan
// events again after Load (the events FIFO outlives the manager).
func TestRecoverRewiresPauseEvents(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "running-pid")
	sb, err := Load(runDir, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer reapOrphans(t)
	defer sb.Destroy(context.Background())
	ev := sb.Events(64)
	var out strings.Builder
	es, err := sb.Exec(context.Background(), "a", ExecSpec{Args: []string{"/payload", "orphan-exit"}, Stdout: &out})
	if err != nil || es.ExitCode != 0 {
		t.Fatalf("exec: %v %+v", err, es)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("orphan pid %q", out.String())
	}
	eventually(t, "OrphanReaped event after Load", func() bool {
		for len(ev) > 0 {
			if e := <-ev; e.Type == EventOrphanReaped && e.Pid == orphan && e.Exit != nil && e.Exit.ExitCode == 7 {
				return true
			}
		}
		return false
	})
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
}
