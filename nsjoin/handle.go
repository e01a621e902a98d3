//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ID is the identity of a namespace: the device and inode of its nsfs file.
// Two handles refer to the same namespace exactly when their IDs are equal.
type ID struct {
	Dev uint64
	Ino uint64
}

// Handle is an open namespace: a file descriptor verified to be an nsfs file
// of a known kind, plus its identity. A Handle is safe for concurrent use;
// Close waits for in-flight users (Do, Start, Pin) of the descriptor, so the
// descriptor number is never reused under them.
type Handle struct {
	mu   sync.RWMutex
	fd   int // -1 once closed
	kind Kind
	id   ID
}

// Kind returns the namespace kind.
func (h *Handle) Kind() Kind { return h.kind }

// ID returns the namespace identity (valid even after Close).
func (h *Handle) ID() ID { return h.id }

// Equal reports whether both handles name the same namespace.
func (h *Handle) Equal(o *Handle) bool {
	return h != nil && o != nil && h.kind == o.kind && h.id == o.id
}

// String formats the handle like the /proc/<pid>/ns links: "net:[4026531840]".
func (h *Handle) String() string {
	if h == nil {
		return "<nil>"
	}
	return h.kind.String() + ":[" + strconv.FormatUint(h.id.Ino, 10) + "]"
}

// Fd returns the descriptor, or -1 after Close. The descriptor stays owned
// by the handle; callers must not close it and must not use it after Close.
func (h *Handle) Fd() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.fd
}

// Close releases the descriptor. It is idempotent.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	if err != nil {
		return &Error{Op: "close", Kind: h.kind, ID: h.String(), Err: err}
	}
	return nil
}

// Dup returns an independent handle to the same namespace.
func (h *Handle) Dup() (*Handle, error) {
	var nh *Handle
	err := h.use("dup", func(fd int) error {
		nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return err
		}
		nh = &Handle{fd: nfd, kind: h.kind, id: h.id}
		return nil
	})
	return nh, err
}

// use runs fn with the live descriptor, holding the handle open meanwhile.
func (h *Handle) use(op string, fn func(fd int) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.fd < 0 {
		return &Error{Op: op, Kind: h.kind, ID: h.String(), Err: ErrClosed}
	}
	if err := fn(h.fd); err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			return err
		}
		return &Error{Op: op, Kind: h.kind, ID: h.String(), Err: err}
	}
	return nil
}

// newHandle verifies fd (nsfs, kind) and takes ownership of it: on error fd
// is closed. want == 0 accepts any kind.
func newHandle(fd int, want Kind) (*Handle, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if sfs.Type != unix.NSFS_MAGIC {
		unix.Close(fd)
		return nil, ErrNotNamespace
	}
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		unix.Close(fd)
		return nil, both(ErrNotNamespace, err)
	}
	got := Kind(t)
	if want != 0 && got != want {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: want %s, got %s", ErrWrongKind, want, got)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Handle{fd: fd, kind: got, id: ID{Dev: st.Dev, Ino: st.Ino}}, nil
}

func checkKind(op string, k Kind) error {
	if k != 0 && !k.Valid() {
		return &Error{Op: op, Kind: k, Err: ErrUnknownKind}
	}
	return nil
}

// Open opens the namespace file at path (a /proc/<pid>/ns link, a pin, or
// any bind mount of an nsfs file) and verifies it is of kind want (0: any).
// The file is first opened with O_PATH and checked to be on nsfs, so FIFOs,
// devices and other files are never really opened.
func Open(path string, want Kind) (*Handle, error) {
	if err := checkKind("open", want); err != nil {
		return nil, err
	}
	pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Kind: want, Path: path, Err: err}
	}
	var sfs unix.Statfs_t
	err = unix.Fstatfs(pfd, &sfs)
	if err == nil && sfs.Type != unix.NSFS_MAGIC {
		err = ErrNotNamespace
	}
	if err != nil {
		unix.Close(pfd)
		return nil, &Error{Op: "open", Kind: want, Path: path, Err: err}
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Close(pfd)
	if err != nil {
		return nil, &Error{Op: "open", Kind: want, Path: path, Err: err}
	}
	h, err := newHandle(fd, want)
	if err != nil {
		return nil, &Error{Op: "open", Kind: want, Path: path, Err: err}
	}
	return h, nil
}

// FromFd takes ownership of fd, an open namespace file, once verified to be
// of kind want (0: any); on error fd is closed. It serves descriptors that
// Open cannot reach by path: a thread that has joined a mount namespace
// without /proc opens its own namespace with openat on a /proc directory
// it opened before.
func FromFd(fd int, want Kind) (*Handle, error) {
	if err := checkKind("adopt", want); err != nil {
		unix.Close(fd)
		return nil, err
	}
	h, err := newHandle(fd, want)
	if err != nil {
		return nil, &Error{Op: "adopt", Kind: want, Err: err}
	}
	return h, nil
}

// Current opens the namespace of kind k that the calling OS thread would
// give to a new child: for pid and time that is pid_for_children and
// time_for_children. Only meaningful on a thread locked with
// runtime.LockOSThread, or for the process-wide namespaces every unlocked
// Go thread shares.
func Current(k Kind) (*Handle, error) {
	if !k.Valid() {
		return nil, &Error{Op: "current", Kind: k, Err: ErrUnknownKind}
	}
	path := "/proc/thread-self/ns/" + k.childProcName()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		var h *Handle
		if h, err = newHandle(fd, k); err == nil {
			return h, nil
		}
	}
	return nil, &Error{Op: "current", Kind: k, Path: path, Err: err}
}

// OpenPid opens namespace kind k of process pid. It pins the process with a
// pidfd first, so a pid reused by another process is never mistaken for the
// one asked for: either the namespaces of pid at pidfd_open time are
// returned, or ErrProcessGone.
func OpenPid(pid int, k Kind) (*Handle, error) {
	pidfd, err := pidfdOpen(pid)
	if err != nil {
		return nil, &Error{Op: "open", Kind: k, Pid: pid, Err: err}
	}
	defer unix.Close(pidfd)
	return OpenPidfd(pidfd, k)
}

func pidfdOpen(pid int) (int, error) {
	if pid <= 0 {
		return -1, both(ErrProcessGone, unix.ESRCH)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return -1, both(ErrProcessGone, err)
	}
	return fd, err
}

// OpenPidfd opens namespace kind k of the process behind pidfd. On Linux
// 6.11+ it asks the pidfd directly (PIDFD_GET_*_NAMESPACE); on older kernels
// it opens /proc/<pid>/ns/<kind> and then checks with pidfd_send_signal(0)
// that the process had not been reaped meanwhile (which is what a PID reuse
// would require). For pid it returns the process's own (active) pid
// namespace, the one its children are created in by default.
func OpenPidfd(pidfd int, k Kind) (*Handle, error) {
	if !k.Valid() {
		return nil, &Error{Op: "open", Kind: k, Err: ErrUnknownKind}
	}
	fd, err := unix.IoctlRetInt(pidfd, k.pidfdIoctl())
	if err == nil {
		h, err := newHandle(fd, k)
		if err != nil {
			return nil, &Error{Op: "open", Kind: k, Err: err}
		}
		return h, nil
	}
	if err == unix.ESRCH {
		return nil, &Error{Op: "open", Kind: k, Err: both(ErrProcessGone, err)}
	}
	if err != unix.ENOTTY && err != unix.EINVAL {
		return nil, &Error{Op: "open", Kind: k, Err: err}
	}
	return openPidfdProc(pidfd, k)
}

// openPidfdProc is the fallback for kernels without PIDFD_GET_*_NAMESPACE.
func openPidfdProc(pidfd int, k Kind) (*Handle, error) {
	pid, err := pidOfPidfd(pidfd)
	if err != nil {
		return nil, &Error{Op: "open", Kind: k, Err: err}
	}
	path := "/proc/" + strconv.Itoa(pid) + "/ns/" + k.String()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT || err == unix.ESRCH {
		err = both(ErrProcessGone, err)
	}
	if err != nil {
		return nil, &Error{Op: "open", Kind: k, Pid: pid, Path: path, Err: err}
	}
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "open", Kind: k, Pid: pid, Path: path, Err: both(ErrProcessGone, err)}
	}
	h, err := newHandle(fd, k)
	if err != nil {
		return nil, &Error{Op: "open", Kind: k, Pid: pid, Path: path, Err: err}
	}
	return h, nil
}

// pidOfPidfd reads the "Pid:" line of the pidfd's fdinfo (-1: exited).
func pidOfPidfd(pidfd int) (int, error) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, err
			}
			if pid <= 0 {
				return 0, both(ErrProcessGone, unix.ESRCH)
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("%w: fd %d is not a pidfd", ErrProcessGone, pidfd)
}
