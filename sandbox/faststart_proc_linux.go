//go:build linux

package sandbox

// /proc of a container's PID namespace, made from outside it.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// mountProc mounts a procfs of the PID namespace pidns (an nsfs fd) on
// dest through the new mount API: mount(2) would take the mounting
// thread's own (the manager's) PID namespace.
func mountProc(dest string, pidns int, m *configs.Mount) error {
	mfd, err := newMount("proc", mountAttrs(m.Flags), func(fd int) error {
		if err := unix.FsconfigSetFd(fd, "pidns", pidns); err != nil {
			return os.NewSyscallError("fsconfig pidns", err)
		}
		for _, o := range strings.Split(m.Data, ",") {
			k, v, hasV := strings.Cut(o, "=")
			var err error
			switch {
			case o == "":
			case hasV:
				err = unix.FsconfigSetString(fd, k, v)
			default:
				err = unix.FsconfigSetFlag(fd, k)
			}
			if err != nil {
				return os.NewSyscallError("fsconfig "+o, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dest, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: dest, Err: err}
	}
	for _, pf := range m.PropagationFlags {
		if err := mountErr("", dest, "", uintptr(pf), ""); err != nil {
			return err
		}
	}
	return nil
}

// newMount makes a detached mount of a new fstype filesystem through the
// new mount API (configure sets its parameters) and returns its
// descriptor, for move_mount.
func newMount(fstype string, attrs int, configure func(fd int) error) (int, error) {
	fd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("fsopen "+fstype, err)
	}
	defer unix.Close(fd)
	if err := configure(fd); err != nil {
		return -1, err
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return -1, os.NewSyscallError("fsconfig create", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, os.NewSyscallError("fsmount", err)
	}
	return mfd, nil
}

// mountAttrs translates mount(2) flags to fsmount's MOUNT_ATTR_*.
func mountAttrs(flags int) int {
	var a int
	for _, t := range [][2]int{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY}, {unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME}, {unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if flags&t[0] != 0 {
			a |= t[1]
		}
	}
	return a
}

// procMounter mounts a container's /proc for the PID namespace of its
// init (stopped at its exec), then the masks under it: Cmd.AtExecStop of
// a container with its own PID namespace. The tracer cannot (its
// capabilities are the container's by then), so a thread of its own does,
// made before the fork: it enters the container's mount namespace while
// the init is forked and waits for its pid, off the start's critical
// path. The thread is thrown away.
type procMounter struct {
	pids chan int
	errs chan error
	stop func()
}

// startProcMounter starts the thread for mnt and cfg's proc mount.
func startProcMounter(mnt *nsjoin.Handle, cfg *configs.Config) *procMounter {
	var proc *configs.Mount
	for _, m := range cfg.Mounts {
		if m.Device == "proc" {
			proc = m
		}
	}
	pm := &procMounter{pids: make(chan int), errs: make(chan error, 1)}
	pm.stop = sync.OnceFunc(func() { close(pm.pids) })
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread
		hostProc, err := enterForProc(mnt)
		if err == nil {
			defer unix.Close(hostProc)
		}
		pid, ok := <-pm.pids
		if ok && err == nil {
			err = mountProcMasked(hostProc, pid, proc, cfg)
		}
		pm.errs <- err
	}()
	return pm
}

// enterForProc keeps a handle on the host's /proc (the init's namespaces
// are found there) and moves the calling locked thread into mnt.
func enterForProc(mnt *nsjoin.Handle) (hostProc int, err error) {
	hostProc, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/proc", Err: err}
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		unix.Close(hostProc)
		return -1, os.NewSyscallError("unshare", err)
	}
	if err := unix.Setns(mnt.Fd(), unix.CLONE_NEWNS); err != nil {
		unix.Close(hostProc)
		return -1, os.NewSyscallError("setns mnt", err)
	}
	return hostProc, nil
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

// mount is the AtExecStop: the thread mounts for pid, and this returns
// its result.
func (pm *procMounter) mount(pid int) error {
	pm.pids <- pid
	return <-pm.errs
}
