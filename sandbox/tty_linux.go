//go:build linux

package sandbox

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// A container's own terminal (ContainerSpec.TTY).
//
// The terminal is allocated inside the container, in its devpts instance,
// by libcontainer's init (Process.ConsoleSocket): the init makes it its
// controlling terminal and stdio and sends the master over a socket pair
// whose other end the manager reads right after the start. From then on
// the terminal is a spec feature independent of how the init was started:
// ttyStarted takes a master however it was obtained, keeps it (stdin and
// resizes go to it) and copies what the container writes into the log
// file and to attaches, as one stream (stdout), since a terminal merges
// stdout and stderr (as the CRI says). A start path that cannot hand its
// init a console falls back to libcontainer's for a TTY container.
//
// Only the manager holds the master: if it dies, the kernel hangs up the
// terminal (SIGHUP to the container's session), and a manager's Load
// finds no terminal to attach to (ErrInvalidState), unlike a container
// without a terminal, whose FIFOs outlive the manager.

// ttyConsole is the terminal of the current run.
type ttyConsole struct {
	master   *os.File // guarded by the container's mu
	once     bool     // StdinOnce
	attached bool     // a stdin attach happened (StdinOnce: no further one)
}

// wireTTY makes p create a terminal and send its master to us. done
// receives it once the start succeeded (or drops the socket when it
// failed).
func (c *container) wireTTY(p *libcontainer.Process) (done func(started bool) error, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "console-socket"), os.NewFile(uintptr(fds[1]), "console-socket")
	p.ConsoleSocket = theirs
	p.Stdin, p.Stdout, p.Stderr = nil, nil, nil
	c.closeTTY() // an earlier run's
	return func(started bool) error {
		theirs.Close() // the init has its copy: EOF if it dies before sending
		defer ours.Close()
		if !started {
			return nil
		}
		fd, err := recvFd(ours)
		if err != nil {
			return fmt.Errorf("receiving the container's terminal: %w", err)
		}
		return c.ttyStarted(fd)
	}, nil
}

// recvFd receives one file descriptor (SCM_RIGHTS) from a unix socket.
func recvFd(sock *os.File) (int, error) {
	name := make([]byte, 4096) // the init sends the terminal's path along
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, os.NewSyscallError("recvmsg", err)
	}
	if n == 0 && oobn == 0 {
		return -1, io.ErrUnexpectedEOF
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("bad control message (%d): %v", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("want one file descriptor, got %d: %v", len(fds), err)
	}
	return fds[0], nil
}

// ttyStarted takes the master of the run's terminal (any start path's)
// and starts copying it into the log file and to attaches.
func (c *container) ttyStarted(fd int) error {
	// Non-blocking, so Go's poller can interrupt a read on close; a dup
	// for the copier, which closes its own.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("fcntl", err)
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return os.NewSyscallError("fcntl", err)
	}
	master, reader := os.NewFile(uintptr(fd), "ptmx"), os.NewFile(uintptr(dup), "ptmx")
	l := c.sink()
	l.mu.Lock()
	err = l.openLocked()
	l.mu.Unlock()
	if err != nil {
		master.Close()
		reader.Close()
		return err
	}
	c.mu.Lock()
	c.tty = &ttyConsole{master: master, once: c.spec.StdinOnce}
	c.mu.Unlock()
	stream := "" // LogRaw
	if c.spec.LogFormat == LogCRI {
		stream = "stdout"
	}
	l.copy(reader, stream) // ends with EIO once no process holds the terminal
	return nil
}

// closeTTY closes the manager's master of the current run's terminal.
func (c *container) closeTTY() {
	c.mu.Lock()
	t := c.tty
	c.tty = nil
	c.mu.Unlock()
	if t != nil && t.master != nil {
		t.master.Close()
	}
}

// ttyMaster returns the current run's master, or an error saying why
// there is none.
func (c *container) ttyMaster() (*ttyConsole, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.spec.TTY {
		return nil, fmt.Errorf("%w: the container has no terminal (ContainerSpec.TTY)", ErrInvalidState)
	}
	if c.tty == nil {
		return nil, fmt.Errorf("%w: no terminal (not started by this manager, or removed)", ErrInvalidState)
	}
	return c.tty, nil
}

// ttyStdin is one attach's input into the terminal.
type ttyStdin struct {
	c     *container
	t     *ttyConsole
	close sync.Once
}

func (w *ttyStdin) Write(b []byte) (int, error) { return w.t.master.Write(b) }

// Close ends the attach; with StdinOnce it types the terminal's EOF
// character (^D), which a program reading a terminal in canonical mode
// reads as the end of its input.
func (w *ttyStdin) Close() error {
	w.close.Do(func() {
		if w.t.once {
			_, _ = w.t.master.Write([]byte{4})
		}
	})
	return nil
}

// attachTTYStdin returns a writer into the terminal of a container
// created with Stdin and TTY.
func (c *container) attachTTYStdin() (io.WriteCloser, error) {
	t, err := c.ttyMaster()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase == ContainerTerminated || t.once && t.attached {
		return nil, fmt.Errorf("%w: stdin closed (%s)", ErrInvalidState, c.phase)
	}
	t.attached = true
	return &ttyStdin{c: c, t: t}, nil
}

// ResizeContainerTTY sets the size of the terminal of a container created
// with ContainerSpec.TTY (its processes get SIGWINCH). A container without
// a terminal, or whose terminal this manager does not hold, is an
// ErrInvalidState.
func (s *Sandbox) ResizeContainerTTY(name string, size TerminalSize) error {
	const op = "resize tty"
	c, err := s.container(op, name)
	if err != nil {
		return err
	}
	t, err := c.ttyMaster()
	if err != nil {
		return newErr(op, s.cfg.ID, name, "", err)
	}
	return newErr(op, s.cfg.ID, name, "", setWinsize(t.master, size))
}

func setWinsize(f *os.File, sz TerminalSize) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Row: sz.Height, Col: sz.Width}
	var ioErr error
	if err := rc.Control(func(fd uintptr) { ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	if ioErr != nil {
		return os.NewSyscallError("ioctl TIOCSWINSZ", ioErr)
	}
	return nil
}

// wantsConsole reports whether the container needs its init to make a
// terminal and send its master (ContainerSpec.TTY): a start path that
// cannot do that (one without libcontainer's init) falls back to
// libcontainer's when it holds, and hands the master to ttyStarted.
func (s *ContainerSpec) wantsConsole() bool { return s.TTY }
