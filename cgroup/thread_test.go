//go:build linux

package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// forkFromJoinedThread starts /bin/sleep from a throwaway thread that
// first joined c, the way the sandbox starts the pause on cgroup v1.
func forkFromJoinedThread(c Cgroup) (*exec.Cmd, error) {
	type res struct {
		cmd *exec.Cmd
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := JoinThread(c); err != nil {
			ch <- res{nil, err}
			return
		}
		cmd := exec.Command("/bin/sleep", "60")
		ch <- res{cmd, cmd.Start()}
	}()
	r := <-ch
	return r.cmd, r.err
}

// TestJoinThread: on v1 a process forked by a thread that joined the
// cgroup is born in it (every hierarchy), and the rest of the test process
// stays where it was; on v2 JoinThread is refused with ErrUnsupported.
func TestJoinThread(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "thread", nil)
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := forkFromJoinedThread(app)
			if s.v2() {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("v2 JoinThread: %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("JoinThread+fork: %v", err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			procs, err := app.Procs()
			if err != nil || !slices.Equal(procs, []int{cmd.Process.Pid}) {
				t.Fatalf("app Procs = %v, %v; want [%d]", procs, err, cmd.Process.Pid)
			}
			got := procCgroups(cmd.Process.Pid)
			for ctrl := range app.Paths() {
				if got[ctrl] != app.Path() {
					t.Errorf("%s: child in %q, want %q", ctrl, got[ctrl], app.Path())
				}
			}
			if self := procCgroups(os.Getpid()); self["memory"] == app.Path() {
				t.Fatalf("the test process itself moved into %s", app.Path())
			}
		})
	}
}
