//go:build linux

package sandbox

// /proc of a container's PID namespace, made from outside it.

import (
	"os"
	"strings"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// mountProc mounts a procfs of the PID namespace pidns (an nsfs fd) on
// dest through the new mount API: mount(2) would take the mounting
// thread's own (the manager's) PID namespace. Where procfs has no "pidns"
// parameter, the calling thread enters pidns for its children (it must be
// a locked thread that is thrown away) and a child forked there mounts it
// (mountProcByChild).
func mountProc(dest string, pidns int, m *configs.Mount) error {
	opts := fsOptions(m.Data)
	if procPidnsSupported() != nil || procByChild {
		if err := unix.Setns(pidns, unix.CLONE_NEWPID); err != nil {
			return os.NewSyscallError("setns pid", err)
		}
		if err := mountProcByChild(dest, mountAttrs(m.Flags), opts); err != nil {
			return err
		}
	} else if err := mountProcPidns(dest, pidns, m.Flags, opts); err != nil {
		return err
	}
	for _, pf := range m.PropagationFlags {
		if err := mountErr("", dest, "", uintptr(pf), ""); err != nil {
			return err
		}
	}
	return nil
}

// procByChild makes mountProc use the child even where procfs takes a
// "pidns" (tests: both ways run on every kernel that has the parameter).
var procByChild = false

// mountProcPidns is mountProc where procfs takes a "pidns" (Linux 6.x).
func mountProcPidns(dest string, pidns, flags int, opts []fsOption) error {
	mfd, err := newMount("proc", mountAttrs(flags), func(fd int) error {
		if err := unix.FsconfigSetFd(fd, "pidns", pidns); err != nil {
			return os.NewSyscallError("fsconfig pidns", err)
		}
		for _, o := range opts {
			var err error
			if o.flag {
				err = unix.FsconfigSetFlag(fd, o.key)
			} else {
				err = unix.FsconfigSetString(fd, o.key, o.value)
			}
			if err != nil {
				return os.NewSyscallError("fsconfig "+o.key, err)
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
	return nil
}

// fsOption is one filesystem parameter of a mount's data ("key=value", or
// a flag "key").
type fsOption struct {
	key, value string
	flag       bool
}

func fsOptions(data string) []fsOption {
	var opts []fsOption
	for _, o := range strings.Split(data, ",") {
		if o == "" {
			continue
		}
		k, v, hasV := strings.Cut(o, "=")
		opts = append(opts, fsOption{key: k, value: v, flag: !hasV})
	}
	return opts
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
