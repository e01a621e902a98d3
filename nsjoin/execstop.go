//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

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
	if why := yamaRefused(); why != "" {
		return why
	}
	return tracedBy()
}

// yamaRefused is the kernel's part of ptraceRefused: Yama's policy, one
// small read.
func yamaRefused() string {
	if b, err := os.ReadFile(yamaScopeFile); err == nil {
		if s := strings.TrimSpace(string(b)); s != "0" && s != "1" {
			return "kernel.yama.ptrace_scope is " + s
		}
	}
	return ""
}

// tracedBy is the tracer's part: a manager (or forking thread) traced by a
// debugger that follows forks, whose children are traced from birth. It
// reads two status files (~50 µs), so AtExecStop's start checks it only
// to explain a failed fork.
func tracedBy() string {
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

// ExecStopRefused says why a Cmd's AtExecStop cannot be used here (the
// kernel or a tracer of this process refuses the child's PTRACE_TRACEME),
// or "" when it can.
func ExecStopRefused() string { return ptraceRefused() }

// ExecStopRefusedByKernel is the part of ExecStopRefused that is the
// host's policy (Yama), cheap enough to ask before every start; a tracer
// of the manager is found when a Start with AtExecStop fails
// (ErrNoExecStop names it).
func ExecStopRefusedByKernel() string { return yamaRefused() }

// freezeStop is a frozen cgroup v2 directory a child is born in, and the
// watcher that sets its rlimits and moves it to dest.
//
// The watcher is a C thread (execstop_cgo.go), not a goroutine: Go forks
// with vfork and a raw system call, so the forking thread keeps its P
// until the child has exec'd, and a stop-the-world (a GC) begun meanwhile
// waits for it, while the child, frozen, waits for the watcher: a
// goroutine watcher would deadlock there. The thread is started from the
// caller's goroutine, before anything else happens, so it has the
// manager's credentials, not the forking thread's reduced ones.
type freezeStop struct {
	dir, dest string
	fd        int      // dir, for CLONE_INTO_CGROUP
	w         *watcher // running until wait
	err       error    // the watcher's result, once waited
}

var freezeSeq atomic.Uint64

// frozenHook, if set (by tests), gets the pid of each child that was born
// frozen, with its executable and Uid line as the watcher saw them while it
// was frozen.
var frozenHook func(pid int, exe, uid string)

// errNeverForked: the fork returned before the child showed up (it failed,
// or the child was killed while frozen).
var errNeverForked = errors.New("the process never showed up in the frozen cgroup")

// newFreezeStop creates the frozen directory under dest (the manager's own
// cgroup v2 when dest is empty) and starts its watcher, which sets rlimits
// on the child. why is the reason ptrace is not used.
func newFreezeStop(dest, why string, rlimits []Rlimit) (*freezeStop, error) {
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
	f := &freezeStop{dest: dest, fd: -1}
	f.dir = filepath.Join(dest, fmt.Sprintf("podkit-execstop-%d-%d", os.Getpid(), freezeSeq.Add(1)))
	if err := os.Mkdir(f.dir, 0o700); err != nil {
		return nil, fail(err)
	}
	err := os.WriteFile(filepath.Join(f.dir, "cgroup.freeze"), []byte("1"), 0)
	if err == nil {
		f.fd, err = unix.Open(f.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err == nil {
		f.w, err = startWatcher(f.dir, f.dest, rlimits)
	}
	if err != nil {
		f.close()
		return nil, fail(err)
	}
	return f, nil
}

// wait ends the watch once the fork returned and reports its result: nil
// once the child got its rlimits and was moved to dest.
func (f *freezeStop) wait() error {
	if f.w != nil {
		_, f.err = f.w.join()
		f.w = nil
	}
	return f.err
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

// close ends the watch if wait did not, and removes the frozen directory
// (empty by now: the child was moved or died).
func (f *freezeStop) close() {
	if f.w != nil {
		f.wait()
	}
	if f.fd >= 0 {
		unix.Close(f.fd)
	}
	os.Remove(f.dir)
}
