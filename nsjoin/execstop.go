//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A process with no_new_privs and rlimits must get its rlimits before its
// exec (see stopAtExec). The cheap way is PTRACE_TRACEME: the child stops
// at its exec and the forking thread, its tracer, sets them. The kernel
// refuses PTRACE_TRACEME when Yama's ptrace_scope is 3, or 2 and the
// forking thread lacks CAP_SYS_PTRACE (Security dropped it), and when the
// child is already traced because the manager is (strace -f, a debugger
// following forks). Then the child is born frozen instead: in a fresh
// cgroup v2 directory with cgroup.freeze set (clone3 CLONE_INTO_CGROUP),
// so it stops before it runs a single instruction of its own, not even
// Go's post-fork code. Another thread sets its rlimits and moves it into
// the cgroup it belongs in, which thaws it; then it switches user and
// execs as usual. The frozen directory is a child of IntoCgroup (or of the
// manager's own cgroup v2), so the limits of that cgroup apply throughout.

// yamaScopeFile is where Yama's ptrace_scope is read (absent without Yama).
var yamaScopeFile = "/proc/sys/kernel/yama/ptrace_scope"

// ptraceRefused says why the child's PTRACE_TRACEME would fail, or "". A
// tracer attaching after the check makes it fail anyway: then Start fails
// and nothing ran.
func ptraceRefused() string {
	if b, err := os.ReadFile(yamaScopeFile); err == nil {
		if s := strings.TrimSpace(string(b)); s != "0" && s != "1" {
			return "kernel.yama.ptrace_scope is " + s
		}
	}
	for _, f := range []string{"/proc/self/status", "/proc/thread-self/status"} {
		b, _ := os.ReadFile(f)
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "TracerPid:"); ok && strings.TrimSpace(v) != "0" {
				return "the manager is traced by pid " + strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// freezeStop is a frozen cgroup v2 directory a child is born in, and the
// watcher that sets its rlimits and moves it to dest.
type freezeStop struct {
	dir, dest string
	fd        int // dir, for CLONE_INTO_CGROUP
	stop      chan struct{}
	res       chan error
}

var freezeSeq atomic.Uint64

// frozenHook, if set (by tests), sees the child while it is frozen.
var frozenHook func(pid int)

// errNeverForked: the fork returned before the child showed up (it failed,
// or the child was killed while frozen).
var errNeverForked = errors.New("the process never showed up in the frozen cgroup")

// newFreezeStop creates the frozen directory under dest (the manager's own
// cgroup v2 when dest is empty). why is the reason ptrace is not used.
func newFreezeStop(dest, why string) (*freezeStop, error) {
	fail := func(err error) error {
		return &Error{Op: "start: rlimits", Path: dest, Err: fmt.Errorf("%w: %s; no frozen cgroup either: %w", ErrNoExecStop, why, err)}
	}
	if dest == "" {
		d, err := ownCgroup2()
		if err != nil {
			return nil, fail(err)
		}
		dest = d
	}
	f := &freezeStop{dest: dest, fd: -1, stop: make(chan struct{}), res: make(chan error, 1)}
	f.dir = filepath.Join(dest, fmt.Sprintf("podkit-execstop-%d-%d", os.Getpid(), freezeSeq.Add(1)))
	if err := os.Mkdir(f.dir, 0o700); err != nil {
		return nil, fail(err)
	}
	err := os.WriteFile(filepath.Join(f.dir, "cgroup.freeze"), []byte("1"), 0)
	if err == nil {
		f.fd, err = unix.Open(f.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		f.close()
		return nil, fail(err)
	}
	return f, nil
}

// ownCgroup2 is the manager's cgroup v2 directory.
func ownCgroup2() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel, ok := "", false
	for _, l := range strings.Split(string(b), "\n") {
		if rel, ok = strings.CutPrefix(l, "0::"); ok {
			break
		}
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var sfs unix.Statfs_t
		if ok && unix.Statfs(root, &sfs) == nil && sfs.Type == unix.CGROUP2_SUPER_MAGIC {
			return filepath.Join(root, rel), nil
		}
	}
	return "", ErrNotCgroup2
}

// watch starts the watcher: once the child shows up in the frozen
// directory it gets its rlimits (set, as applyRlimits may, by a thread
// that is then thrown away) and is moved to dest; if that fails it is
// killed, still frozen.
func (f *freezeStop) watch(setRlimits func(pid int) error) {
	go func() {
		runtime.LockOSThread() // never unlocked: setRlimits may change the thread's ids
		pid, err := f.child()
		if err == nil {
			if frozenHook != nil {
				frozenHook(pid)
			}
			if err = setRlimits(pid); err == nil {
				err = os.WriteFile(filepath.Join(f.dest, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
			}
			if err != nil {
				unix.Kill(pid, unix.SIGKILL) // our unreaped child: the pid is its own
			}
		}
		if err != nil && !errors.Is(err, errNeverForked) {
			// Whatever is in there must die frozen, never run without
			// its rlimits (and the forking thread waits for it).
			_ = os.WriteFile(filepath.Join(f.dir, "cgroup.kill"), []byte("1"), 0)
		}
		f.res <- err
	}()
}

// child polls for the pid in the frozen directory until stop.
func (f *freezeStop) child() (int, error) {
	procs := filepath.Join(f.dir, "cgroup.procs")
	for pause := time.Microsecond; ; pause = min(2*pause, time.Millisecond) {
		b, err := os.ReadFile(procs)
		if err != nil {
			return 0, err
		}
		if b = bytes.TrimSpace(b); len(b) > 0 {
			return strconv.Atoi(string(b))
		}
		select {
		case <-f.stop:
			return 0, errNeverForked
		case <-time.After(pause):
		}
	}
}

// wait ends the watch once the fork returned and reports its result.
func (f *freezeStop) wait() error {
	close(f.stop)
	return <-f.res
}

// close removes the frozen directory (empty by now: the child was moved or
// died).
func (f *freezeStop) close() {
	if f.fd >= 0 {
		unix.Close(f.fd)
	}
	os.Remove(f.dir)
}
