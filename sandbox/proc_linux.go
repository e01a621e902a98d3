//go:build linux

package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/podkit/podkit/pause"
	"golang.org/x/sys/unix"
)

// procRef identifies a process by pidfd plus its start time (field 22 of
// /proc/<pid>/stat), never by a bare PID. It works both for our own child
// (pause started by this process) and for a process re-attached after a
// restart of the manager.
type procRef struct {
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`

	pidfd  int
	pp     *pause.Process // set when started through the pause package
	done   chan struct{}
	mu     sync.Mutex
	status syscall.WaitStatus
	reaped bool // status is known (our child, or reaped by reapIfOurs)
}

// readProcStat reads /proc/<pid>/stat and returns the command name (field
// 2, which may hold spaces and parentheses) and the fields after it, so
// that fields[0] is field 3 (state).
func readProcStat(pid int) (comm string, fields [][]byte, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", nil, err
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", nil, errors.New("malformed stat")
	}
	return string(b[open+1 : end]), bytes.Fields(b[end+1:]), nil
}

// procStartTime reads the start time (clock ticks since boot) of pid.
func procStartTime(pid int) (uint64, error) {
	_, f, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, errors.New("short stat")
	}
	return strconv.ParseUint(string(f[19]), 10, 64)
}

// fromPause wraps a pause started by pause.Spawn (our child); a goroutine
// reaps it concurrently.
func fromPause(pp *pause.Process, parked chan struct{}) (*procRef, error) {
	st, err := procStartTime(pp.Pid)
	if err != nil {
		killAndReap(pp)
		closeParked(parked)
		return nil, err
	}
	p := &procRef{Pid: pp.Pid, StartTime: st, pidfd: -1, pp: pp, done: make(chan struct{})}
	go func() {
		awaitPidfd(pp.PidFD()) // valid until Close, after the wait
		es, _ := pp.Wait()
		closeParked(parked) // the pause is reaped: its forking thread may go
		p.mu.Lock()
		if es.Signal != 0 {
			p.status = syscall.WaitStatus(es.Signal)
		} else {
			p.status = syscall.WaitStatus(es.Code << 8)
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// killAndReap kills a pause that is not recorded anywhere yet and reaps it.
func killAndReap(pp *pause.Process) {
	_ = pp.Signal(unix.SIGKILL)
	_, _ = pp.Wait()
	pp.Close()
}

func closeParked(parked chan struct{}) {
	if parked != nil {
		close(parked)
	}
}

// attachProc re-attaches to a process that is not our child. It fails with
// ErrPauseDied if the PID is gone or now belongs to a different process.
func attachProc(pid int, startTime uint64) (*procRef, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: pidfd_open %d: %v", ErrPauseDied, pid, err)
	}
	// Compare start time after opening the pidfd: if it matches now, the
	// pidfd refers to the original process.
	if st, err := procStartTime(pid); err != nil || st != startTime {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: pid %d was reused or exited", ErrPauseDied, pid)
	}
	p := &procRef{Pid: pid, StartTime: startTime, pidfd: fd, done: make(chan struct{})}
	go func() {
		awaitPidfd(fd) // release closes it only after done
		p.reapIfOurs()
		close(p.done)
	}()
	return p, nil
}

// reapIfOurs reaps the exited process if it has become our child (this
// process is a child subreaper, or the init of its PID namespace, and the
// manager that started it died) and records its exit status. Otherwise
// it is someone else's to reap (ECHILD) and the status stays unknown.
// Reaping matters beyond the status: the init of a PID namespace cannot
// finish exiting while a zombie of that namespace waits for its parent.
func (p *procRef) reapIfOurs() {
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PIDFD, p.pidfd, &info, unix.WEXITED|unix.WNOHANG, nil); err != nil {
		return
	}
	code, status := siginfoStatus(&info)
	if code == 0 {
		return // not exited yet (WNOHANG)
	}
	p.mu.Lock()
	p.status, p.reaped = status, true
	p.mu.Unlock()
}

// exitStatus returns the wait status if this process reaped it.
func (p *procRef) exitStatus() (syscall.WaitStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, p.reaped
}

// alive reports whether the process has not exited yet.
func (p *procRef) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig through the pidfd (safe against PID reuse).
func (p *procRef) signal(sig unix.Signal) error {
	if p.pp != nil {
		if !p.alive() {
			return nil
		}
		return p.pp.Signal(sig)
	}
	err := unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// awaitExit waits for the process to be gone, reaping libcontainer's stray
// zombies meanwhile, and what reap reaps: one in the pod's PID namespace
// would keep a dying pause (its PID 1) from ever finishing its exit (see
// reapStrays, Sandbox.reapPodZombies).
func (p *procRef) awaitExit(reap ...func()) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
			reapStrays()
			for _, r := range reap {
				r()
			}
		}
	}
}

// release closes the pidfd once the process is gone.
func (p *procRef) release() {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pp != nil {
		p.pp.Close()
		p.pp = nil
	}
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
		p.pidfd = -1
	}
}

// sigchldInfo is the SIGCHLD view of a siginfo_t on Linux (64-bit layout:
// the union starts at byte 16 with si_pid, si_uid, si_status).
type sigchldInfo struct {
	Signo, Errno, Code, _ int32
	Pid                   int32
	UID                   uint32
	Status                int32
}

// siginfoStatus turns a waitid result into the pid (0 when nothing was
// reaped under WNOHANG) and a wait(2)-style status.
func siginfoStatus(info *unix.Siginfo) (pid int, ws syscall.WaitStatus) {
	ci := (*sigchldInfo)(unsafe.Pointer(info))
	switch ci.Code {
	case 1: // CLD_EXITED
		ws = syscall.WaitStatus(ci.Status << 8)
	case 2: // CLD_KILLED
		ws = syscall.WaitStatus(ci.Status)
	case 3: // CLD_DUMPED
		ws = syscall.WaitStatus(ci.Status) | 0x80
	}
	return int(ci.Pid), ws
}
