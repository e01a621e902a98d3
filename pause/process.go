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

	mu    sync.RWMutex // Close takes it exclusively; Signal and Wait share it
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
	if p.exited() {
		return p.err("signal", os.ErrProcessDone)
	}
	if err := unix.PidfdSendSignal(p.pidfd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return p.err("signal", os.ErrProcessDone)
		}
		return p.err("signal", err)
	}
	return nil
}

func (p *Process) exited() bool { return p.status.Load() != nil }

// Wait blocks until the pause exits, reaps it, and returns its status.
// Later calls return the same status. Close blocks while a Wait is running.
func (p *Process) Wait() (ExitStatus, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	if st := p.status.Load(); st != nil {
		return *st, nil
	}
	if p.pidfd < 0 {
		return ExitStatus{}, p.err("wait", ErrClosed)
	}
	st, err := waitPidfd(p.pidfd)
	if err != nil {
		return ExitStatus{}, p.err("wait", err)
	}
	p.status.Store(&st)
	return st, nil
}

// Stop sends SIGTERM and waits; if ctx ends first it sends SIGKILL and
// waits for that. The pause exits 0 on SIGTERM in pause mode; in init mode
// SIGTERM goes to the command and the status is the command's.
func (p *Process) Stop(ctx context.Context) (ExitStatus, error) {
	if err := p.Signal(syscall.SIGTERM); err != nil && !isDone(err) {
		return ExitStatus{}, err
	}
	type result struct {
		st  ExitStatus
		err error
	}
	ch := make(chan result, 1)
	go func() { st, err := p.Wait(); ch <- result{st, err} }()
	select {
	case r := <-ch:
		return r.st, r.err
	case <-ctx.Done():
	}
	if err := p.Signal(syscall.SIGKILL); err != nil && !isDone(err) {
		return ExitStatus{}, err
	}
	r := <-ch
	return r.st, r.err
}

// Close releases the pidfd, and the ready pipe of a pause spawned but never
// awaited (a Ready in progress finishes first). It does not stop the pause;
// a pause that is never waited for stays a zombie until the caller exits.
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
