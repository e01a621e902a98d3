//go:build linux

package pause

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Start starts the pause in the namespaces chosen by o.Cloneflags and returns
// once it has written its readiness byte: it takes its signals (handlers
// installed, or blocked for rt_sigtimedwait), it is a subreaper if not PID
// 1, and in init mode the command has been started. If the pause exits
// first, the error wraps ErrExited and carries its status (127/126 in init
// mode when the command cannot be run). If ctx ends first, the pause is
// killed and reaped and the error wraps ctx.Err(). Bad options give an error
// wrapping ErrInvalidOptions and start nothing.
func Start(ctx context.Context, o Options) (*Process, error) {
	p, err := Spawn(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := p.Ready(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Spawn is the first half of Start: it forks and execs the pause and
// returns without waiting for it to be ready. Its namespaces exist as soon
// as Spawn returns, so a caller can work on them (open, pin, configure)
// while the pause starts, then call Ready. Until Ready returns nil the
// pause may not take its signals yet: do not signal it but to kill it.
func Spawn(ctx context.Context, o Options) (*Process, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	path := o.Path
	if path == "" {
		var err error
		if path, err = Find(); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "start", Path: path, Err: err}
	}
	return spawn(path, &o)
}

// Ready waits for the readiness byte of a pause started with Spawn (for
// one from Start it returns nil at once). If the pause exits first, the
// error wraps ErrExited and carries its status; if ctx ends first, the
// pause is killed and the error wraps ctx.Err(). On error the pause has
// been reaped; the caller still Closes the Process. Later calls return the
// same result.
func (p *Process) Ready(ctx context.Context) error {
	p.readyMu.Lock()
	defer p.readyMu.Unlock()
	if p.readyFd < 0 {
		return p.readyErr
	}
	err := awaitReady(ctx, p.readyFd)
	p.readyFd = -1
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = ErrExited // the pipe closed: the pause is gone
		} else {
			p.Signal(syscall.SIGKILL)
		}
		st, werr := p.Wait()
		if werr != nil {
			err = errors.Join(err, werr)
		}
		p.readyErr = &Error{Op: "start", Path: p.Path, Pid: p.Pid, Status: &st, Err: err}
	}
	return p.readyErr
}

// spawn forks and execs the pause with the ready pipe on fd 3, whose read
// end the Process keeps for Ready.
func spawn(path string, o *Options) (*Process, error) {
	files, closeNull, err := stdio(o.Stdin, o.Stdout, o.Stderr)
	if err != nil {
		return nil, &Error{Op: "start", Path: path, Err: err}
	}
	defer closeNull()
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return nil, &Error{Op: "start", Path: path, Err: err}
	}
	files = append(files, uintptr(pipe[1]))
	if o.Events != nil {
		files = append(files, rawFd(o.Events))
	}
	pidfd := -1
	sys := &syscall.SysProcAttr{
		Cloneflags:  o.Cloneflags,
		PidFD:       &pidfd,
		UseCgroupFD: o.UseCgroupFD,
		CgroupFD:    o.CgroupFD,
	}
	if o.DieWithParent || o.DieWithThread {
		sys.Pdeathsig = syscall.SIGKILL
	}
	attr := &syscall.ProcAttr{Env: o.env(), Files: files, Sys: sys}
	var pid int
	fork := func() {
		if o.Cloneflags == 0 { // see spawnOwnFiles
			cgroupFD := -1
			if o.UseCgroupFD {
				cgroupFD = o.CgroupFD
			}
			var ok bool
			if pid, pidfd, ok, err = spawnOwnFiles(path, o.argv(path), attr.Env, files, cgroupFD, sys.Pdeathsig); ok {
				return
			}
		}
		pid, err = syscall.ForkExec(path, o.argv(path), attr)
	}
	switch {
	case o.DieWithParent:
		onSpawnerThread(fork)
	case o.BeforeFork != nil:
		onThrowawayThread(func() {
			if err = o.BeforeFork(); err == nil {
				fork()
			}
		})
	default:
		fork()
	}
	runtime.KeepAlive(o)
	unix.Close(pipe[1])
	if err != nil {
		unix.Close(pipe[0])
		return nil, &Error{Op: "start", Path: path, Err: err}
	}
	return &Process{Pid: pid, Path: path, pidfd: pidfd, readyFd: pipe[0]}, nil
}

// awaitReady reads the readiness byte from fd (and closes fd). io.EOF means
// the writer is gone without writing.
func awaitReady(ctx context.Context, fd int) error {
	if ctx.Done() == nil { // cannot be cancelled: a plain blocking read
		defer unix.Close(fd)
		var b [1]byte
		for {
			n, err := unix.Read(fd, b[:])
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				return err
			case n == 0:
				return io.EOF
			}
			return nil
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	f := os.NewFile(uintptr(fd), "pause-ready") // pollable: deadlines work
	defer f.Close()
	if d, ok := ctx.Deadline(); ok {
		f.SetReadDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var b [1]byte
	_, err := f.Read(b[:])
	if errors.Is(err, os.ErrDeadlineExceeded) {
		<-ctx.Done() // the deadline is ctx's: it is done or about to be
		return ctx.Err()
	}
	return err
}

// stdio returns the descriptors for fds 0-2: the caller's files (switched to
// blocking mode, as os/exec does) or /dev/null, opened here when needed. The
// returned closer releases the /dev/null descriptor after the fork.
func stdio(files ...*os.File) ([]uintptr, func(), error) {
	fds := make([]uintptr, 0, 5)
	null := -1
	for _, f := range files {
		if f != nil {
			fds = append(fds, f.Fd())
			continue
		}
		if null < 0 {
			var err error
			if null, err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
				return nil, nil, err
			}
		}
		fds = append(fds, uintptr(null))
	}
	return fds, func() {
		if null >= 0 {
			unix.Close(null)
		}
	}, nil
}

// rawFd returns f's descriptor without switching it to blocking mode (which
// f.Fd() would do).
func rawFd(f *os.File) uintptr {
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Fd()
	}
	var fd uintptr
	rc.Control(func(u uintptr) { fd = u })
	return fd
}
