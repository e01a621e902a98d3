//go:build linux

package cgroup

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// eventfdSource: v1 memory.oom_control notifications through an eventfd
// registered in cgroup.event_control. The kernel also signals it when the
// cgroup is removed; the counter read then fails and the source is dropped.
type eventfdSource struct {
	efd     int
	control string // .../memory.oom_control
}

func (c *cgroupV1) oom() (oomSource, error) {
	d := c.dirs["memory"]
	if d == "" {
		return nil, &Error{Op: "oomwatch", Path: c.path, Err: ErrUnsupported}
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, &Error{Op: "oomwatch", Path: c.path, Err: os.NewSyscallError("eventfd", err)}
	}
	control := d + "/memory.oom_control"
	cfd, err := unix.Open(control, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(efd)
		return nil, fsErr("oomwatch", c.path, &os.PathError{Op: "open", Path: control, Err: err})
	}
	// The kernel takes its own reference to the eventfd; the control file
	// is only needed while registering.
	err = writeFile(d+"/cgroup.event_control", fmt.Sprintf("%d %d", efd, cfd))
	unix.Close(cfd)
	if err != nil {
		unix.Close(efd)
		return nil, fsErr("oomwatch", c.path, err)
	}
	return &eventfdSource{efd: efd, control: control}, nil
}

func (s *eventfdSource) fd() int { return s.efd }

func (s *eventfdSource) drain() {
	var b [8]byte
	_, _ = unix.Read(s.efd, b[:])
}

func (s *eventfdSource) kills() (uint64, error) {
	n, _, err := readKV(s.control, "oom_kill")
	return n, err
}

func (s *eventfdSource) close() { unix.Close(s.efd) }

// inotifySource: v2 memory.events.local (memory.events on kernels without
// it) watched with inotify; the kernel notifies the file on every change.
type inotifySource struct {
	ifd  int
	file string
}

func (c *cgroupV2) oom() (oomSource, error) {
	file := c.dir + "/memory.events.local"
	if _, err := os.Stat(file); err != nil {
		file = c.dir + "/memory.events"
		if _, err := os.Stat(file); err != nil {
			if _, derr := os.Stat(c.dir); derr != nil {
				return nil, fsErr("oomwatch", c.path, derr)
			}
			return nil, &Error{Op: "oomwatch", Path: c.path, Err: wrapBoth(ErrUnsupported, err)}
		}
	}
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, &Error{Op: "oomwatch", Path: c.path, Err: os.NewSyscallError("inotify_init1", err)}
	}
	if _, err := unix.InotifyAddWatch(ifd, file, unix.IN_MODIFY); err != nil {
		unix.Close(ifd)
		return nil, fsErr("oomwatch", c.path, &os.PathError{Op: "inotify_add_watch", Path: file, Err: err})
	}
	return &inotifySource{ifd: ifd, file: file}, nil
}

func (s *inotifySource) fd() int { return s.ifd }

func (s *inotifySource) drain() {
	var b [4096]byte
	for {
		if n, err := unix.Read(s.ifd, b[:]); err != nil || n <= 0 {
			return
		}
	}
}

func (s *inotifySource) kills() (uint64, error) {
	n, _, err := readKV(s.file, "oom_kill")
	return n, err
}

func (s *inotifySource) close() { unix.Close(s.ifd) }
