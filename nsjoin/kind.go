//go:build linux

package nsjoin

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Kind is a namespace type. Its value is the CLONE_NEW* flag of the kind,
// which is also what NS_GET_NSTYPE reports and what setns(2) takes.
type Kind int

// The eight namespace kinds.
const (
	User   Kind = unix.CLONE_NEWUSER
	Mount  Kind = unix.CLONE_NEWNS
	PID    Kind = unix.CLONE_NEWPID
	Net    Kind = unix.CLONE_NEWNET
	IPC    Kind = unix.CLONE_NEWIPC
	UTS    Kind = unix.CLONE_NEWUTS
	Cgroup Kind = unix.CLONE_NEWCGROUP
	Time   Kind = unix.CLONE_NEWTIME
)

// allKinds is the canonical order, used for String and for entering
// namespaces.
var allKinds = [numKinds]Kind{User, Mount, PID, Net, IPC, UTS, Cgroup, Time}

// AllKinds returns the eight kinds in canonical order (user, mnt, pid, net,
// ipc, uts, cgroup, time).
func AllKinds() []Kind { k := allKinds; return k[:] }

const numKinds = 8

// index returns a dense index 0..7 for a valid kind, or -1.
func (k Kind) index() int {
	for i, c := range allKinds {
		if c == k {
			return i
		}
	}
	return -1
}

// Valid reports whether k is one of the eight kinds.
func (k Kind) Valid() bool { return k.index() >= 0 }

// String returns the name used under /proc/<pid>/ns ("net", "mnt", ...).
func (k Kind) String() string {
	switch k {
	case User:
		return "user"
	case Mount:
		return "mnt"
	case PID:
		return "pid"
	case Net:
		return "net"
	case IPC:
		return "ipc"
	case UTS:
		return "uts"
	case Cgroup:
		return "cgroup"
	case Time:
		return "time"
	}
	return fmt.Sprintf("kind(%#x)", int(k))
}

// ParseKind maps a /proc/<pid>/ns name ("net", "mnt", ...) to its Kind.
func ParseKind(name string) (Kind, error) {
	for _, k := range allKinds {
		if k.String() == name {
			return k, nil
		}
	}
	return 0, &Error{Op: "parse kind", ID: name, Err: ErrUnknownKind}
}

// ThreadJoinable reports whether one thread of a multi-threaded process can
// setns(2) into a namespace of this kind: net, ipc, uts, cgroup and pid (the
// latter only sets pid_for_children). mnt needs an fs_struct not shared with
// other threads, user and time need a single-threaded process (the kernel
// answers EINVAL and EUSERS).
func (k Kind) ThreadJoinable() bool {
	switch k {
	case Net, IPC, UTS, Cgroup, PID:
		return true
	}
	return false
}

// procName is the name under /proc/<tid>/ns that designates the namespace a
// new child would get; for pid and time that is the *_for_children link.
func (k Kind) childProcName() string {
	switch k {
	case PID:
		return "pid_for_children"
	case Time:
		return "time_for_children"
	}
	return k.String()
}

// pidfdIoctl is the PIDFD_GET_*_NAMESPACE request for the kind (Linux 6.11+).
func (k Kind) pidfdIoctl() uint {
	switch k {
	case User:
		return unix.PIDFD_GET_USER_NAMESPACE
	case Mount:
		return unix.PIDFD_GET_MNT_NAMESPACE
	case PID:
		return unix.PIDFD_GET_PID_NAMESPACE
	case Net:
		return unix.PIDFD_GET_NET_NAMESPACE
	case IPC:
		return unix.PIDFD_GET_IPC_NAMESPACE
	case UTS:
		return unix.PIDFD_GET_UTS_NAMESPACE
	case Cgroup:
		return unix.PIDFD_GET_CGROUP_NAMESPACE
	case Time:
		return unix.PIDFD_GET_TIME_NAMESPACE
	}
	return 0
}
