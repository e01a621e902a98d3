//go:build linux

package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// procMounter mounts a container's /proc for the PID namespace of its
// init, then the masks under it. The forking thread cannot (its
// capabilities are the container's by then), so a thread of its own does,
// made before the fork and already in the container's mount namespace.
// It mounts as soon as the init exists: it watches the init's cgroup v2
// directory (cgroup.events: populated), so the mounts are made while the
// init is still on its way to its exec, and the exec stop (AtExecStop)
// usually finds them done. Without a v2 directory (a v1-only host) the
// exec stop hands it the pid. If the start fails after all, it unmounts
// /proc again: the namespace stays for another start. The thread is
// thrown away.
type procMounter struct {
	wake  int          // eventfd: a request below is waiting
	req   atomic.Int64 // the init's pid from the exec stop
	end   atomic.Int32 // 1: the start succeeded, 2: it failed
	errs  chan error   // the mount's result, once
	pid   atomic.Int64 // the init it mounted for
	ended chan struct{}
	refs  atomic.Int32 // the thread and the start: the last closes wake
}

// procMountEarly lets the mounter watch the init's cgroup v2 directory;
// off (tests), it waits for the exec stop, as on a host without one.
var procMountEarly = true

// startProcMounter starts the thread for mnt and cfg's proc mount; the
// init will be born in the cgroup v2 directory v2dir ("" if none).
func startProcMounter(mnt *nsjoin.Handle, cfg *configs.Config, v2dir string) (*procMounter, error) {
	var proc *configs.Mount
	for _, m := range cfg.Mounts {
		if m.Device == "proc" {
			proc = m
		}
	}
	if !procMountEarly {
		v2dir = ""
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	pm := &procMounter{wake: wake, errs: make(chan error, 1), ended: make(chan struct{})}
	pm.refs.Store(2)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread
		defer pm.release()
		defer close(pm.ended)
		w, err := newInitWatch(mnt, v2dir)
		if err != nil {
			pm.errs <- err
			pm.waitEnd()
			return
		}
		defer w.close()
		pid, err := pm.awaitInit(w)
		if err == nil {
			pm.pid.Store(int64(pid))
			err = mountProcMasked(w.hostProc, pid, proc, cfg)
		}
		pm.errs <- err
		if pm.waitEnd() == 2 && err == nil && proc != nil {
			_ = unix.Unmount(proc.Destination, unix.MNT_DETACH) // with the masks on it
		}
	}()
	return pm, nil
}

// initWatch is what the mounter thread holds: the host's /proc, and the
// init's cgroup.events and cgroup.procs (-1 without a v2 directory).
type initWatch struct {
	hostProc, events, procs int
}

// newInitWatch opens what the thread watches and moves it into mnt (host
// paths are not reachable from there).
func newInitWatch(mnt *nsjoin.Handle, v2dir string) (*initWatch, error) {
	w := &initWatch{hostProc: -1, events: -1, procs: -1}
	var err error
	if w.hostProc, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc", Err: err}
	}
	if v2dir != "" {
		w.events, _ = unix.Open(v2dir+"/cgroup.events", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		w.procs, _ = unix.Open(v2dir+"/cgroup.procs", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if w.events >= 0 {
			_, _ = w.populated() // a read arms poll
		}
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		w.close()
		return nil, os.NewSyscallError("unshare", err)
	}
	if err := unix.Setns(mnt.Fd(), unix.CLONE_NEWNS); err != nil {
		w.close()
		return nil, os.NewSyscallError("setns mnt", err)
	}
	return w, nil
}

func (w *initWatch) close() {
	for _, fd := range []int{w.hostProc, w.events, w.procs} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// populated reads cgroup.events: whether a process is in the directory.
func (w *initWatch) populated() (bool, error) {
	var b [128]byte
	n, err := unix.Pread(w.events, b[:], 0)
	if err != nil {
		return false, os.NewSyscallError("read cgroup.events", err)
	}
	return strings.Contains(string(b[:n]), "populated 1"), nil
}

// firstPid reads cgroup.procs: the init, the only process there.
func (w *initWatch) firstPid() int {
	var b [32]byte
	n, _ := unix.Pread(w.procs, b[:], 0)
	line, _, _ := strings.Cut(string(b[:n]), "\n")
	pid, err := strconv.Atoi(line)
	if err != nil {
		return 0
	}
	return pid
}

// awaitInit waits until the init exists, seen by its cgroup or handed
// over by the exec stop, and returns its pid; an end of the start first
// is an error.
func (pm *procMounter) awaitInit(w *initWatch) (int, error) {
	fds := []unix.PollFd{{Fd: int32(pm.wake), Events: unix.POLLIN}}
	if w.events >= 0 && w.procs >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(w.events), Events: unix.POLLPRI})
	}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return 0, os.NewSyscallError("poll", err)
		}
		if pid := pm.req.Load(); pid > 0 {
			return int(pid), nil
		}
		if pm.end.Load() != 0 {
			return 0, fmt.Errorf("%w: start ended before its init existed", ErrInvalidState)
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			if up, err := w.populated(); err == nil && up {
				if pid := w.firstPid(); pid > 0 {
					return pid, nil
				}
			}
		}
		if fds[0].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(pm.wake, b[:])
		}
	}
}

// signal wakes the thread after a request was stored.
func (pm *procMounter) signal() {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	_, _ = unix.Write(pm.wake, b[:])
}

// waitEnd blocks until the start says how it ended (1 ok, 2 failed).
func (pm *procMounter) waitEnd() int32 {
	fds := []unix.PollFd{{Fd: int32(pm.wake), Events: unix.POLLIN}}
	for pm.end.Load() == 0 {
		_, _ = unix.Poll(fds, -1)
		var b [8]byte
		_, _ = unix.Read(pm.wake, b[:])
	}
	return pm.end.Load()
}

// mount is the AtExecStop: the init pid is held at its exec; /proc is
// usually mounted already.
func (pm *procMounter) mount(pid int) error {
	var err error
	select {
	case err = <-pm.errs:
	default:
		pm.req.Store(int64(pid))
		pm.signal()
		err = <-pm.errs
	}
	if got := pm.pid.Load(); err == nil && got != int64(pid) {
		// Not the init (cgroup.procs named another process): the start
		// fails, and the mount goes with it.
		err = fmt.Errorf("%w: /proc mounted for pid %d, the init is %d", ErrRootfs, got, pid)
	}
	return err
}

// finish tells the thread how the start ended. After a failed start it
// waits while the thread unmounts /proc, so that the namespace is back as
// it was for another start; after a successful one the thread ends on its
// own.
func (pm *procMounter) finish(ok bool) {
	v := int32(2)
	if ok {
		v = 1
	}
	pm.end.Store(v)
	pm.signal()
	if !ok {
		<-pm.ended
	}
	pm.release()
}

func (pm *procMounter) release() {
	if pm.refs.Add(-1) == 0 {
		unix.Close(pm.wake)
	}
}

// mountProcMasked is the mounter thread's work once the init exists.
func mountProcMasked(hostProc, pid int, proc *configs.Mount, cfg *configs.Config) error {
	ns, err := unix.Openat(hostProc, strconv.Itoa(pid)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/" + strconv.Itoa(pid) + "/ns/pid", Err: err}
	}
	defer unix.Close(ns)
	if proc != nil {
		if err := mountProc(proc.Destination, ns, proc); err != nil {
			return fmt.Errorf("%w: mount %s: %w", ErrRootfs, proc.Destination, err)
		}
	}
	return applyMasks(cfg, true)
}
