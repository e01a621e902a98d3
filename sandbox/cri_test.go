//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// TestDestroyWhileCreatingContainers overlaps Destroy with CreateContainer
// calls (run it with -race): Destroy must not read the container table
// while a create writes it, and a container whose create was in flight
// must not outlive the sandbox (the leak check at the end sees any
// process, cgroup or mount left).
func TestDestroyWhileCreatingContainers(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	ctx := context.Background()
	for i := range 8 {
		sb, err := Create(ctx, testConfig(t, "race-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for j := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(j) * 10 * time.Millisecond)
				_ = sb.CreateContainer(ctx, ctr(rootfs, "c"+strconv.Itoa(j), "sleep"))
			}()
		}
		time.Sleep(time.Duration(i) * 10 * time.Millisecond)
		if err := sb.Destroy(ctx); err != nil {
			t.Fatalf("cycle %d: Destroy: %v", i, err)
		}
		wg.Wait()
		if _, err := os.Stat(sb.Dir()); !os.IsNotExist(err) {
			t.Fatalf("cycle %d: run directory left: %v", i, err)
		}
	}
}

// TestTransitionTables drives the two state machines through every pair of
// states: exactly the listed moves are allowed.
func TestTransitionTables(t *testing.T) {
	states := []State{StateCreating, StateReady, StateStopping, StateStopped, StateDestroying, StateDestroyed, StateUnknown}
	allowed := map[[2]State]bool{
		{StateCreating, StateReady}: true, {StateCreating, StateDestroying}: true,
		{StateReady, StateStopping}: true, {StateReady, StateUnknown}: true, {StateReady, StateDestroying}: true,
		{StateUnknown, StateStopping}: true, {StateUnknown, StateDestroying}: true,
		{StateStopping, StateStopping}: true, {StateStopping, StateStopped}: true, {StateStopping, StateDestroying}: true,
		{StateStopped, StateDestroying}:    true,
		{StateDestroying, StateDestroying}: true, {StateDestroying, StateDestroyed}: true,
	}
	for _, from := range states {
		if _, ok := sandboxMoves[from]; !ok {
			t.Errorf("state %s missing from the table", from)
		}
		for _, to := range states {
			if got, want := sandboxCanMove(from, to), allowed[[2]State{from, to}]; got != want {
				t.Errorf("sandbox %s -> %s: allowed %v, want %v", from, to, got, want)
			}
			s := &Sandbox{state: from}
			err := s.setState("test", to)
			if want := allowed[[2]State{from, to}]; (err == nil) != want || (err != nil && !errors.Is(err, ErrInvalidState)) {
				t.Errorf("setState %s -> %s: %v", from, to, err)
			}
			if err != nil && s.state != from {
				t.Errorf("refused move %s -> %s changed the state to %s", from, to, s.state)
			}
		}
	}
	phases := []ContainerPhase{ContainerWaiting, ContainerRunning, ContainerTerminated}
	cAllowed := map[[2]ContainerPhase]bool{
		{ContainerWaiting, ContainerRunning}: true, {ContainerWaiting, ContainerTerminated}: true,
		{ContainerRunning, ContainerTerminated}: true,
	}
	for _, from := range phases {
		for _, to := range phases {
			c := &container{phase: from}
			err := c.setPhase(to)
			if want := cAllowed[[2]ContainerPhase{from, to}]; (err == nil) != want || (err != nil && !errors.Is(err, ErrInvalidState)) {
				t.Errorf("container %s -> %s: %v", from, to, err)
			}
		}
	}
}

// TestIdempotentOperations: what the CRI requires to succeed when done
// again: Stop of a stopped sandbox, StopContainer of a stopped container,
// RemoveContainer of a removed or unknown one, Destroy twice.
func TestIdempotentOperations(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	ctx := context.Background()
	sb, err := Create(ctx, testConfig(t, "idem"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, sb, ctr(rootfs, "a", "sleep"))
	run(t, sb, ctr(rootfs, "b", "sleep"))
	for i := range 2 {
		if err := sb.StopContainer(ctx, "a", time.Second); err != nil {
			t.Fatalf("StopContainer #%d: %v", i+1, err)
		}
	}
	for i := range 2 {
		if err := sb.RemoveContainer(ctx, "a"); err != nil {
			t.Fatalf("RemoveContainer #%d: %v", i+1, err)
		}
	}
	if err := sb.RemoveContainer(ctx, "never-was"); err != nil {
		t.Fatalf("RemoveContainer of an unknown container: %v", err)
	}
	for i := range 2 {
		if err := sb.Stop(ctx, time.Second); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	if st := sb.State(); st != StateStopped {
		t.Fatalf("state %s", st)
	}
	if err := sb.StopContainer(ctx, "b", time.Second); err != nil {
		t.Fatalf("StopContainer in a stopped sandbox: %v", err)
	}
	for i := range 2 {
		if err := sb.Destroy(ctx); err != nil {
			t.Fatalf("Destroy #%d: %v", i+1, err)
		}
	}
	if err := sb.Stop(ctx, time.Second); err != nil {
		t.Fatalf("Stop of a destroyed sandbox: %v", err)
	}
	if err := sb.RemoveContainer(ctx, "b"); err != nil {
		t.Fatalf("RemoveContainer in a destroyed sandbox: %v", err)
	}
}

// TestMethodsHonourContext: a caller's context bounds the waits, not a
// timeout of the package's: StopContainer and Stop with a grace period of
// an hour return as soon as ctx ends (the container that ignores SIGTERM
// killed), CreateContainer with an ended ctx creates nothing, and a
// Destroy cut short by its ctx can be finished by another.
func TestMethodsHonourContext(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "ctx"))
	bg := context.Background()
	for _, n := range []string{"a", "b"} {
		run(t, sb, ctr(rootfs, n, "term", "ignore"))
		eventually(t, n+" ready", func() bool { return strings.Contains(logOf(t, sb, n), "ready") })
	}
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	start := time.Now()
	err := sb.StopContainer(ctx, "a", time.Hour)
	cancel()
	if err != nil || time.Since(start) > 30*time.Second {
		t.Fatalf("StopContainer: %v after %v", err, time.Since(start))
	}
	if c := statusOf(sb, "a"); c.State != ContainerTerminated || c.Reason != ReasonKilledAfterGrace {
		t.Fatalf("a: %+v", c)
	}
	ctx, cancel = context.WithTimeout(bg, 300*time.Millisecond)
	start = time.Now()
	err = sb.Stop(ctx, time.Hour)
	cancel()
	if err != nil || time.Since(start) > 30*time.Second || sb.State() != StateStopped {
		t.Fatalf("Stop: %v after %v, state %s", err, time.Since(start), sb.State())
	}
	done, cancel := context.WithCancel(bg)
	cancel()
	if err := sb.CreateContainer(done, ctr(rootfs, "late", "true")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateContainer with an ended ctx: %v", err)
	}
	// Destroy with an ended ctx either finishes (nothing left to wait
	// for) or stops short, Destroying, and is finished by a second call.
	if err := sb.Destroy(done); err != nil {
		if !errors.Is(err, context.Canceled) || sb.State() != StateDestroying {
			t.Fatalf("Destroy with an ended ctx: %v, state %s", err, sb.State())
		}
		t.Logf("Destroy with an ended ctx: %v", err)
	}
	if err := sb.Destroy(bg); err != nil || sb.State() != StateDestroyed {
		t.Fatalf("Destroy: %v, state %s", err, sb.State())
	}
	if _, err := os.Stat(sb.Dir()); !os.IsNotExist(err) {
		t.Fatalf("run directory left: %v", err)
	}
}

// TestExitRecording: one path records every exit, for an init this
// process started (the reaper) and for one Load re-attached after the
// manager that started it was killed: the same status, Wait result and
// ContainerExited event, and the run's exec target dropped.
func TestExitRecording(t *testing.T) {
	testharness.Privileged(t)
	for _, how := range []string{"reaper", "re-attached"} {
		t.Run(how, func(t *testing.T) {
			var sb *Sandbox
			if how == "reaper" {
				sb = mustCreate(t, testConfig(t, "exits"))
				run(t, sb, ctr(testRootfs(t), "a", "term", "ignore"))
			} else {
				var err error
				if sb, err = Load(runManager(t, "running"), "rec"); err != nil {
					t.Fatal(err)
				}
				defer reapOrphans(t)
				defer sb.Destroy(context.Background())
			}
			ev := sb.Events(64)
			pid := statusOf(sb, "a").Pid
			if es, err := sb.Exec(context.Background(), "a", ExecSpec{Args: []string{"/payload", "true"}}); err != nil || es.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, es)
			}
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			es := waitExit(t, sb, "a")
			if es.ExitCode != 137 || es.Signal != unix.SIGKILL || es.Reason != ReasonError || es.Finished.IsZero() {
				t.Errorf("Wait: %+v", es)
			}
			if c := statusOf(sb, "a"); c.State != ContainerTerminated || c.Reason != ReasonError || c.Exit == nil || *c.Exit != *es {
				t.Errorf("status: %+v", c)
			}
			eventually(t, "ContainerExited", func() bool {
				for len(ev) > 0 {
					if e := <-ev; e.Type == EventContainerExited && e.Container == "a" {
						if e.Pid != pid || e.Exit == nil || *e.Exit != *es {
							t.Errorf("event %+v (exit %+v)", e, e.Exit)
						}
						return true
					}
				}
				return false
			})
			c, _ := sb.container("test", "a")
			c.execMu.Lock()
			tgt := c.execTgt
			c.execMu.Unlock()
			if tgt != nil {
				t.Errorf("exec target of the exited run kept: %+v", tgt)
			}
			if _, err := sb.Exec(context.Background(), "a", ExecSpec{Args: []string{"/payload", "true"}}); err == nil {
				t.Error("exec into an exited container succeeded")
			}
		})
	}
}
