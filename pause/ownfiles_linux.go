//go:build linux

package pause

import (
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawnOwnFiles forks and execs the pause so that the child never holds a
// copy of the manager's descriptor table: a manager of many pods holds
// several descriptors per pod (pidfds, log pipes and files), and a fork
// copies them all for the exec to close one by one again (filp_close of
// each: with 1,000 pods, ~1.8 ms of every pause's start went there). The
// child shares the table (CLONE_VFORK|CLONE_VM|CLONE_FILES) until its first
// step, close_range(3, ~0, CLOSE_RANGE_UNSHARE), gives it one of its own
// with only 0-2; it takes the descriptors it needs from the manager with
// pidfd_getfd, puts them on 0..n-1 and execs. It is born in the thread's
// namespaces and cgroups like syscall.ForkExec's child, into cgroupFD's
// cgroup if cgroupFD >= 0 (CLONE_INTO_CGROUP).
//
// ok is false when this way is not available (no C stage: a build without
// cgo or not on amd64; a kernel or a policy refusing clone3, close_range
// or pidfd_getfd, which is remembered): the caller forks the usual way.
// The child is in the caller's PID namespace (it names its parent by pid).
func spawnOwnFiles(path string, argv, env []string, files []uintptr, cgroupFD int, pdeathsig syscall.Signal) (pid, pidfd int, ok bool, err error) {
	if !spawnOwnFilesSupported || ownFilesRefused.Load() {
		return 0, -1, false, nil
	}
	pid, pidfd, step, err := spawnOwnFilesC(path, argv, env, files, cgroupFD, pdeathsig)
	if err == nil {
		ownFilesSpawns.Add(1)
		return pid, pidfd, true, nil
	}
	if pid > 0 { // the child exited at step: reap it
		var info unix.Siginfo
		_ = unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED, nil)
		unix.Close(pidfd)
	}
	switch step {
	case "execve", "prctl":
		return 0, -1, true, err // the pause's own failure, as ForkExec reports it
	}
	ownFilesRefused.Store(true)
	return 0, -1, false, nil
}

// ownFilesSpawns counts the pauses forked by spawnOwnFiles (tests).
var ownFilesSpawns atomic.Int64

// ownFilesRefused is set once spawnOwnFiles' way failed for a reason
// that is the kernel's or the host's, not the pause's.
var ownFilesRefused atomic.Bool
