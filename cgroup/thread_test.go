//go:build linux

package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// joinedThread is a throwaway OS thread of the test process that joined a
// cgroup and forked /bin/sleep from there, the way the sandbox starts the
// pause and exec'd processes on cgroup v1. It stays in the cgroup until
// release lets it exit.
type joinedThread struct {
	tid     int
	cmd     *exec.Cmd
	release chan struct{}
}

func joinThreadAndFork(c Cgroup) (*joinedThread, error) {
	type res struct {
		j   *joinedThread
		err error
	}
	ch := make(chan res, 1)
	j := &joinedThread{tid: -1, release: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		j.tid = unix.Gettid()
		if err := JoinThread(c); err != nil {
			ch <- res{j, err}
			return
		}
		j.cmd = exec.Command("/bin/sleep", "60")
		ch <- res{j, j.cmd.Start()}
		<-j.release
	}()
	r := <-ch
	return r.j, r.err
}

// exit lets the thread go and waits until the kernel has it gone.
func (j *joinedThread) exit(t *testing.T) {
	close(j.release)
	eventually(t, "the joined thread to exit", func() bool {
		_, err := os.Stat("/proc/self/task/" + strconv.Itoa(j.tid))
		return errors.Is(err, os.ErrNotExist)
	})
}

// TestJoinThread: on v1 a process forked by a thread that joined the
// cgroup is born in it (every hierarchy), the rest of the test process
// stays where it was, and once the thread is gone the child is the only
// member; on v2 JoinThread is refused with ErrUnsupported.
func TestJoinThread(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "thread", nil)
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatal(err)
			}
			j, err := joinThreadAndFork(app)
			if s.v2() {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("v2 JoinThread: %v, want ErrUnsupported", err)
				}
				j.exit(t)
				return
			}
			if err != nil {
				j.exit(t)
				t.Fatalf("JoinThread+fork: %v", err)
			}
			defer func() { _ = j.cmd.Process.Kill(); _ = j.cmd.Wait() }()
			if self := procCgroups(os.Getpid()); self["memory"] == app.Path() {
				t.Fatalf("the test process itself moved into %s", app.Path())
			}
			j.exit(t)
			procs, err := app.Procs()
			if err != nil || !slices.Equal(procs, []int{j.cmd.Process.Pid}) {
				t.Fatalf("app Procs = %v, %v; want [%d]", procs, err, j.cmd.Process.Pid)
			}
			got := procCgroups(j.cmd.Process.Pid)
			for ctrl := range app.Paths() {
				if got[ctrl] != app.Path() {
					t.Errorf("%s: child in %q, want %q", ctrl, got[ctrl], app.Path())
				}
			}
		})
	}
}

// TestKillAllSparesAJoinedThread: while a thread of the manager sits in a
// v1 cgroup (our pid is listed in its cgroup.procs), KillAll neither
// kills nor freezes us: it waits for the thread to leave, then kills the
// rest. (Were our pid killed, this test binary would die.)
func TestKillAllSparesAJoinedThread(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	if s.v2() {
		t.Log("cgroup v2: no per-thread membership in domain cgroups, so no thread of ours can be listed (TestJoinThread checks the refusal)")
		return
	}
	pod := newTestPod(t, s, "spare", nil)
	app, err := pod.AddContainer("app", nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := joinThreadAndFork(app)
	if err != nil {
		j.exit(t)
		t.Fatal(err)
	}
	defer func() { _ = j.cmd.Process.Kill(); _ = j.cmd.Wait() }()
	if procs, _ := app.Procs(); !slices.Contains(procs, os.Getpid()) {
		t.Fatalf("app Procs = %v: the joined thread should list our pid %d", procs, os.Getpid())
	}
	done := make(chan error, 1)
	go func() { done <- app.KillAll(ctx30(t)) }()
	select {
	case err := <-done:
		t.Fatalf("KillAll returned (%v) while our thread was still in the cgroup", err)
	case <-time.After(50 * time.Millisecond): // it waits, as it should
	}
	j.exit(t)
	if err := <-done; err != nil {
		t.Fatalf("KillAll: %v", err)
	}
	if err := j.cmd.Wait(); err == nil || j.cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("child: %v, want killed by SIGKILL", err)
	}
}

// TestThreadHome: a thread that saved its home, joined a cgroup and forked
// goes back with Return; its child stays in the cgroup.
func TestThreadHome(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "home", nil)
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatal(err)
			}
			type res struct {
				tid           int
				before, after map[string]string
				cmd           *exec.Cmd
				err           error
			}
			ch := make(chan res, 1)
			go func() {
				runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
				r := res{tid: unix.Gettid(), before: readCgroupFile("/proc/thread-self/cgroup")}
				home, err := SaveThreadHome(app)
				if err != nil {
					r.err = err
					ch <- r
					return
				}
				defer home.Close()
				if s.v2() {
					r.err = home.Return() // nothing to return from
					ch <- r
					return
				}
				if r.err = JoinThread(app); r.err == nil {
					r.cmd = exec.Command("/bin/sleep", "60")
					if r.err = r.cmd.Start(); r.err == nil {
						r.err = home.Return()
					}
				}
				r.after = readCgroupFile("/proc/thread-self/cgroup")
				ch <- r
			}()
			r := <-ch
			if r.cmd != nil && r.cmd.Process != nil {
				defer func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() }()
			}
			if r.err != nil || s.v2() {
				if r.err != nil {
					t.Fatal(r.err)
				}
				return
			}
			for ctrl := range app.Paths() {
				if r.after[ctrl] != r.before[ctrl] {
					t.Errorf("%s: the thread is in %q after Return, was in %q", ctrl, r.after[ctrl], r.before[ctrl])
				}
			}
			if got := procCgroups(r.cmd.Process.Pid); got["memory"] != app.Path() {
				t.Errorf("the child is in %q, want %q", got["memory"], app.Path())
			}
		})
	}
}
