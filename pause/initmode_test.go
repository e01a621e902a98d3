//go:build linux

package pause_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

func TestInitModeExitCodes(t *testing.T) {
	testharness.Privileged(t)
	bin := testharness.PauseBinary(t)
	notExec := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  []string
		want int
	}{
		{"success", []string{"true"}, 0},
		{"exit-42", []string{"/bin/sh", "-c", "exit 42"}, 42},
		{"not-executable", []string{notExec}, 126},
		{"directory", []string{"/"}, 126},
		{"not-found-path", []string{"/nonexistent/cmd"}, 127},
		{"not-found-lookup", []string{"podkit-no-such-command"}, 127},
		{"killed-TERM", []string{"/bin/sh", "-c", "kill -TERM $$"}, 128 + 15},
		{"killed-KILL", []string{"/bin/sh", "-c", "kill -KILL $$"}, 128 + 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"--"}, tc.cmd...)...)
			err := cmd.Run()
			var ee *exec.ExitError
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("%v: %v", tc.cmd, err)
			case tc.want != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tc.want):
				t.Fatalf("%v: %v, want exit status %d", tc.cmd, err, tc.want)
			}
		})
	}
}

func TestStartReportsCommandNotFound(t *testing.T) {
	testharness.Privileged(t)
	_, err := pause.Start(bgCtx(), pause.Options{
		Path:       testharness.PauseBinary(t),
		Cloneflags: pause.PodNamespaces,
		Args:       []string{"/nonexistent/cmd"},
	})
	var pe *pause.Error
	if !errors.Is(err, pause.ErrExited) || !errors.As(err, &pe) || pe.Status == nil || pe.Status.Code != 127 {
		t.Fatalf("Start with a missing command: %v; want ErrExited with status 127", err)
	}
}

func TestInitModeForwardsSignalsToProcessGroup(t *testing.T) {
	testharness.Privileged(t)
	outR, outW := pipe(t)
	p := start(t, pause.Options{
		Cloneflags: pause.PodNamespaces,
		Args:       []string{testharness.HelperBinary()},
		Env:        append(environ(), testharness.HelperEnv("siggroup")),
		Stdout:     outW,
	})
	outW.Close()
	out := lines(outR)
	expectLines(t, out, "parent ready", "child ready")
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGWINCH} {
		if err := p.Signal(sig); err != nil {
			t.Fatal(err)
		}
		name := sigName(sig)
		expectLines(t, out, "parent "+name, "child "+name)
	}
	// SIGTERM is forwarded too (init mode does not exit on it itself); the
	// command exits 0 after its child, so the pause exits 0.
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectLines(t, out, "parent SIGTERM", "child SIGTERM")
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("Wait: %v, %v; want exit status 0", st, err)
	}
}

// orphanBlocker starts the pause as PID 1 running a command that exits 5
// and leaves behind a grandchild blocked on stdin. Closing the returned
// file releases the grandchild.
func orphanBlocker(t *testing.T, policy pause.OrphanPolicy) (*pause.Process, *os.File, <-chan event) {
	inR, inW := pipe(t)
	evw, evDone, events := eventPipe(t)
	p := start(t, pause.Options{
		Cloneflags: pause.PodNamespaces,
		Args:       []string{testharness.HelperBinary()},
		Env:        append(environ(), testharness.HelperEnv("orphan-blocker")),
		Orphans:    policy,
		Stdin:      inR,
		Events:     evw,
	})
	evDone()
	inR.Close()
	return p, inW, events
}

func TestOrphanPolicyExitWithCommand(t *testing.T) {
	testharness.Privileged(t)
	p, hold, _ := orphanBlocker(t, pause.ExitWithCommand)
	defer hold.Close()
	// The grandchild still blocks on stdin, yet the pause exits with the
	// command's status; as PID 1 its exit takes the grandchild with it.
	st, err := p.Wait()
	if err != nil || st.Code != 5 {
		t.Fatalf("Wait: %v, %v; want exit status 5", st, err)
	}
}

func TestOrphanPolicyWaitForDescendants(t *testing.T) {
	testharness.Privileged(t)
	p, hold, events := orphanBlocker(t, pause.WaitForDescendants)
	defer hold.Close()
	waitEvent(t, events, "command exit", func(e event) bool { return e.Event == "exit" && e.Code == 5 })
	// One more round trip through the pause's loop, then it must still run:
	// the grandchild (in the command's process group) is alive.
	if err := p.Signal(syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "SIGWINCH", func(e event) bool { return e.Event == "signal" && e.Signal == "SIGWINCH" })
	if state := procStatus(t, p.Pid, "State"); !isAlive(state) {
		t.Fatalf("pause state %q after its command exited: want it waiting for the orphan", state)
	}
	hold.Close()
	waitEvent(t, events, "orphan reaped", func(e event) bool { return e.Event == "orphan" && e.Code == 0 })
	st, err := p.Wait()
	if err != nil || st.Code != 5 {
		t.Fatalf("Wait: %v, %v; want the command's exit status 5", st, err)
	}
}
