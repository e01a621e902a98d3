//go:build linux

package sandbox

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns once process pid, our child or re-attached and not yet
// reaped, has exited, having waited in Go's network poller on a pidfd of
// its own (pidfds turn readable at exit) rather than in a blocking waitid
// or poll: a goroutine blocked in a system call holds an OS thread, and a
// manager of 1,000 pods would keep 2,000 of them (each pause and each
// container). The caller then reaps it, which no longer blocks. Where the
// poller cannot take the pidfd it falls back to a blocking poll.
func awaitExit(pid int) {
	// A file description of its own: O_NONBLOCK must not reach the
	// pidfds that others wait on with a blocking waitid. Its pid cannot
	// have been reused: the process is not reaped yet.
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return // gone already (ESRCH): the reaper finds it exited
	}
	awaitReadable(fd)
}

// awaitReadable waits until pidfd fd (non-blocking; closed on return) is
// readable: its process exited.
func awaitReadable(fd int) {
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	if rc, err := f.SyscallConn(); err == nil && rc.Read(exitedNow) == nil {
		return
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return
		}
	}
}

// exitedNow says whether the pidfd is readable (its process exited).
func exitedNow(fd uintptr) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err != unix.EINTR && (err != nil || n > 0)
}
