//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"github.com/podkit/podkit/nsjoin"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TerminalSize is a terminal's size in character cells.
type TerminalSize struct {
	Width, Height uint16
}

// execIO wires an exec's standard input and, with TTY, its terminal.
// Stdin goes through a pipe of ours rather than exec.Cmd's: Cmd.Wait
// would wait for a caller's reader that blocks (an idle stream) forever.
type execIO struct {
	childIn  *os.File // the process's stdin (pipe read end), closed once started
	in       *os.File // our write end of that pipe
	master   *os.File // the terminal's master side (TTY)
	slave    *os.File // the process's terminal, closed once started
	out      sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once
}

// newExecIO prepares cmd's streams for spec; pid is the container's init.
func newExecIO(cmd *nsjoin.Cmd, spec ExecSpec, pid int) (*execIO, error) {
	x := &execIO{done: make(chan struct{})}
	if spec.TTY {
		master, slave, err := openPTY(pid)
		if err != nil {
			return nil, err
		}
		x.master, x.slave = master, slave
		x.initialSize(spec.Resize)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
		return x, nil
	}
	if spec.Stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		x.childIn, x.in = r, w
		cmd.Stdin = r
	}
	return x, nil
}

// started drops our copies of the process's ends and starts copying.
func (x *execIO) started(spec ExecSpec) {
	for _, f := range []*os.File{x.childIn, x.slave} {
		if f != nil {
			f.Close()
		}
	}
	x.childIn, x.slave = nil, nil
	in := x.in
	if x.master != nil {
		in = x.master
		x.out.Add(1)
		go func() {
			defer x.out.Done()
			// EIO once every holder of the terminal is gone.
			_, _ = io.Copy(writerOrDiscard(spec.Stdout), x.master)
		}()
		if spec.Resize != nil {
			go x.resizeLoop(spec.Resize)
		}
	}
	if in != nil && spec.Stdin != nil {
		go func() {
			_, _ = io.Copy(in, spec.Stdin)
			if in == x.in {
				in.Close() // EOF for the process
			}
		}()
	}
}

func writerOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// initialSize applies the sizes already queued on sizes, so the process
// starts with the caller's size rather than 0x0.
func (x *execIO) initialSize(sizes <-chan TerminalSize) {
	for {
		select {
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			x.setSize(sz)
		default:
			return
		}
	}
}

func (x *execIO) setSize(sz TerminalSize) {
	ws := &unix.Winsize{Row: sz.Height, Col: sz.Width}
	if rc, err := x.master.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
	}
}

// resizeLoop applies terminal sizes until the exec is over.
func (x *execIO) resizeLoop(sizes <-chan TerminalSize) {
	for {
		select {
		case <-x.done:
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			x.setSize(sz)
		}
	}
}

// ttyDrainTimeout bounds how long an exec waits, after its process
// exited, for the terminal's output (a background child may hold it).
const ttyDrainTimeout = time.Second

// exited waits (bounded) until the terminal's output is copied.
func (x *execIO) exited() {
	if x.master == nil {
		return
	}
	drained := make(chan struct{})
	go func() { x.out.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(ttyDrainTimeout):
	}
}

// close releases everything; a stdin copier blocked in the caller's
// reader ends at its next read, its write failing.
func (x *execIO) close() {
	x.doneOnce.Do(func() { close(x.done) })
	for _, f := range []*os.File{x.childIn, x.in, x.slave, x.master} {
		if f != nil {
			f.Close()
		}
	}
	x.out.Wait()
}

// openPTY allocates a terminal in the container's devpts instance: its
// /dev/ptmx is opened inside its root (openat2 RESOLVE_IN_ROOT, so no link
// of the container leads elsewhere) and must be the ptmx device; the
// slave comes from TIOCGPTPEER, never by path.
func openPTY(pid int) (master, slave *os.File, err error) {
	root, err := unix.Open(initRoot(pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: initRoot(pid), Err: err}
	}
	defer unix.Close(root)
	how := &unix.OpenHow{Flags: unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	m, err := unix.Openat2(root, "dev/ptmx", how)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: "/dev/ptmx in the container", Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(m, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		unix.Close(m)
		return nil, nil, errors.New("the container's /dev/ptmx is not the ptmx device")
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, os.NewSyscallError("ioctl TIOCSPTLCK", err)
	}
	s, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		unix.Close(m)
		return nil, nil, os.NewSyscallError("ioctl TIOCGPTPEER", errno)
	}
	// Non-blocking, so Go's poller can interrupt a read on close.
	if err := unix.SetNonblock(m, true); err != nil {
		unix.Close(m)
		unix.Close(int(s))
		return nil, nil, fmt.Errorf("pty: %w", err)
	}
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(s, "pty"), nil
}
