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
