//go:build linux

package pause

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/pause/internal/cli"
)

// ExitStatus is how a pause (or, in init mode, its command) ended.
type ExitStatus struct {
	// Code is shell-style: the exit code, or 128+N when killed by signal N.
	Code int
	// Signal is the signal that killed the process, 0 if it exited.
	Signal syscall.Signal
}

// Success reports a zero exit code.
func (s ExitStatus) Success() bool { return s.Code == 0 && s.Signal == 0 }

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return "killed by " + cli.SignalName(s.Signal)
	}
	return "exit status " + strconv.Itoa(s.Code)
}

// Process is a running pause. Its pidfd stays open until Close, so Signal
// and Wait can never hit a recycled pid.
type Process struct {
	Pid  int    // in the caller's PID namespace
	Path string // the binary

	mu    sync.RWMutex // Close takes it exclusively; Signal and dupFD share it, never across a blocking call
	pidfd int          // -1 once closed

	waitMu sync.Mutex                 // serialises waiters
	status atomic.Pointer[ExitStatus] // set once reaped

	readyMu  sync.Mutex // serialises Ready
	readyFd  int        // read end of the ready pipe; -1 once read
	readyErr error      // Ready's result once readyFd is -1
}

// PidFD returns the pidfd (valid until Close); usable with setns(2) to
// join the pause's namespaces, poll(2) for exit, pidfd_send_signal(2).
func (p *Process) PidFD() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pidfd
}

// NamespacePath returns /proc/PID/ns/<kind> (kind: "net", "ipc", "uts",
// "pid", "mnt", ...) for the pause.
func (p *Process) NamespacePath(kind string) string {
	return "/proc/" + strconv.Itoa(p.Pid) + "/ns/" + kind
}

// Signal sends sig with pidfd_send_signal(2). After the pause has been waited
// for it returns an error wrapping os.ErrProcessDone.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pidfd < 0 {
		return p.err("signal", ErrClosed)
	}
	return p.signalFD(p.pidfd, sig)
}

// signalFD sends sig through fd, the pidfd or a duplicate of it.
func (p *Process) signalFD(fd int, sig syscall.Signal) error {
	if p.exited() {
		return p.err("signal", os.ErrProcessDone)
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return p.err("signal", os.ErrProcessDone)
		}
		return p.err("signal", err)
	}
	return nil
}

func (p *Process) exited() bool { return p.status.Load() != nil }

// dupFD returns a duplicate of the pidfd for an operation that blocks
// (Wait, Stop): it holds the lock only while duplicating, so a Close is
// never held up by a blocked waiter (and Signal is never held up behind
// that Close), and the operation keeps a valid descriptor after Close.
func (p *Process) dupFD(op string) (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pidfd < 0 {
		return -1, p.err(op, ErrClosed)
	}
	fd, err := unix.FcntlInt(uintptr(p.pidfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, p.err(op, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err))
	}
	return fd, nil
}

// Wait blocks until the pause exits, reaps it, and returns its status.
// Later calls return the same status. A Wait in progress does not hold up
// Close: it waits on its own duplicate of the pidfd.
func (p *Process) Wait() (ExitStatus, error) {
	if st := p.status.Load(); st != nil {
		return *st, nil
	}
	fd, err := p.dupFD("wait")
	if err != nil {
		if st := p.status.Load(); st != nil {
			return *st, nil
		}
		return ExitStatus{}, err
	}
	defer unix.Close(fd)
	return p.waitFD(fd)
}

// waitFD reaps the pause through fd once (waiters are serialised; later
// ones find the status).
func (p *Process) waitFD(fd int) (ExitStatus, error) {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	if st := p.status.Load(); st != nil {
		return *st, nil
	}
	st, err := waitPidfd(fd)
	if err != nil {
		return ExitStatus{}, p.err("wait", err)
	}
	p.status.Store(&st)
	return st, nil
}

// Stop sends SIGTERM and waits; if ctx ends first it sends SIGKILL and
// waits for that. The pause exits 0 on SIGTERM in pause mode; in init mode
// SIGTERM goes to the command and the status is the command's. A Stop in
// progress finishes even if Close is called meanwhile (it works on its own
// duplicate of the pidfd).
func (p *Process) Stop(ctx context.Context) (ExitStatus, error) {
	if st := p.status.Load(); st != nil {
		return *st, nil
	}
	fd, err := p.dupFD("stop")
	if err != nil {
		if st := p.status.Load(); st != nil {
			return *st, nil
		}
		return ExitStatus{}, err
	}
	defer unix.Close(fd)
	if err := p.signalFD(fd, syscall.SIGTERM); err != nil && !isDone(err) {
		return ExitStatus{}, err
	}
	type result struct {
		st  ExitStatus
		err error
	}
	ch := make(chan result, 1)
	go func() { st, err := p.waitFD(fd); ch <- result{st, err} }()
	select {
	case r := <-ch:
		return r.st, r.err
	case <-ctx.Done():
	}
	if err := p.signalFD(fd, syscall.SIGKILL); err != nil && !isDone(err) {
		return ExitStatus{}, err
	}
	r := <-ch
	return r.st, r.err
}

// Close releases the pidfd, and the ready pipe of a pause spawned but never
// awaited (a Ready in progress finishes first). It does not stop the pause;
// a pause that is never waited for stays a zombie until the caller exits.
// It does not wait for a Wait or Stop in progress, which finish on their
// own duplicates of the pidfd.
func (p *Process) Close() error {
	p.readyMu.Lock()    // before mu, as in Ready
	if p.readyFd >= 0 { // spawned, never awaited
		unix.Close(p.readyFd)
		p.readyFd, p.readyErr = -1, p.err("ready", ErrClosed)
	}
	p.readyMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pidfd < 0 {
		return p.err("close", ErrClosed)
	}
	err := unix.Close(p.pidfd)
	p.pidfd = -1
	if err != nil {
		return p.err("close", err)
	}
	return nil
}

func (p *Process) err(op string, err error) error {
	return &Error{Op: op, Path: p.Path, Pid: p.Pid, Status: p.status.Load(), Err: err}
}

func isDone(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Err == os.ErrProcessDone
}

const cldExited = 1 // CLD_EXITED

// siginfo is the head of the kernel's siginfo_t for SIGCHLD (128 bytes).
type siginfo struct {
	Signo, Errno, Code int32
	_                  int32
	Pid                int32
	UID                uint32
	Status             int32
	_                  [100]byte
}

// waitPidfd reaps the process behind pidfd with waitid(P_PIDFD).
func waitPidfd(pidfd int) (ExitStatus, error) {
	var si siginfo
	for {
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd),
			uintptr(unsafe.Pointer(&si)), unix.WEXITED, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return ExitStatus{}, e
		}
		break
	}
	switch si.Code {
	case cldExited:
		return ExitStatus{Code: int(si.Status)}, nil
	default: // CLD_KILLED, CLD_DUMPED
		sig := syscall.Signal(si.Status)
		return ExitStatus{Code: cli.CodeSignalBase + int(sig), Signal: sig}, nil
	}
}
