//go:build linux

package sandbox

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Container stdin (ContainerSpec.Stdin): the init reads a FIFO,
// <sandbox dir>/io/<name>.in, made afresh for each run. The manager holds
// a write end (keep) so that the container sees no EOF between attaches;
// AttachStdin opens further write ends. With StdinOnce the keeper is
// closed when the first attach ends. If the manager dies, its keeper goes
// with it: a container whose stdin is not attached then reads EOF.
type stdinPipe struct {
	fifo     string
	keep     *os.File
	once     bool
	attached bool // an attach happened (StdinOnce: no further one)
}

func (c *container) stdinPath() string { return filepath.Join(c.sb.dir, "io", c.spec.Name+".in") }

// wireStdin gives p the read end of a fresh stdin FIFO when the spec asks
// for stdin. done(started) drops our copy of that end, and the whole pipe
// when the start failed. A TTY container's stdin is its terminal
// (tty_linux.go).
func (c *container) wireStdin(p *libcontainer.Process) (done func(started bool) error, err error) {
	if c.spec.wantsConsole() {
		return c.wireTTY(p)
	}
	if !c.spec.Stdin {
		return func(bool) error { return nil }, nil
	}
	fifo := c.stdinPath()
	if err := freshFIFO(fifo); err != nil {
		return nil, err
	}
	// The read end non-blocking (no writer yet), then the keeper, then the
	// read end back to blocking for the container.
	rfd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: fifo, Err: err}
	}
	keep, err := openFIFO(fifo, unix.O_WRONLY)
	if err == nil {
		err = unix.SetNonblock(rfd, false)
	}
	if err != nil {
		unix.Close(rfd)
		if keep != nil {
			keep.Close()
		}
		return nil, err
	}
	r := os.NewFile(uintptr(rfd), fifo)
	p.Stdin = r
	c.closeStdin() // an earlier run's
	c.mu.Lock()
	c.stdin = &stdinPipe{fifo: fifo, keep: keep, once: c.spec.StdinOnce}
	c.mu.Unlock()
	return func(started bool) error {
		r.Close()
		if !started {
			c.closeStdin()
		}
		return nil
	}, nil
}

// closeStdin closes the manager's write end of the current run's stdin,
// or its terminal.
func (c *container) closeStdin() {
	c.closeTTY()
	c.mu.Lock()
	sp := c.stdin
	c.stdin = nil
	c.mu.Unlock()
	if sp != nil && sp.keep != nil {
		sp.keep.Close()
	}
}

// stdinAttach is one attach's write end.
type stdinAttach struct {
	*os.File
	c     *container
	sp    *stdinPipe
	close sync.Once
}

// Close ends the attach; with StdinOnce it closes the container's stdin.
func (a *stdinAttach) Close() error {
	err := os.ErrClosed
	a.close.Do(func() {
		err = a.File.Close()
		if a.sp.once {
			a.c.mu.Lock()
			keep := a.sp.keep
			a.sp.keep = nil
			a.c.mu.Unlock()
			if keep != nil {
				keep.Close()
			}
		}
	})
	return err
}

// AttachStdin returns a writer into the standard input of a container
// created with ContainerSpec.Stdin (the stdin half of the CRI's Attach).
// Closing it ends the attach; with StdinOnce that closes the container's
// stdin, and later attaches fail with ErrInvalidState. After Load, the
// stdin of a container still running can be attached again, but the
// keeper that held it open died with the old manager. With
// ContainerSpec.TTY the writer types into the container's terminal.
func (s *Sandbox) AttachStdin(name string) (io.WriteCloser, error) {
	const op = "attach stdin"
	c, err := s.container(op, name)
	if err != nil {
		return nil, err
	}
	if !c.spec.Stdin {
		return nil, newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: the container has no stdin (ContainerSpec.Stdin)", ErrInvalidState))
	}
	if c.spec.TTY { // its terminal: tty_linux.go
		w, err := c.attachTTYStdin()
		return w, newErr(op, s.cfg.ID, name, "", err)
	}
	c.mu.Lock()
	sp, phase := c.stdin, c.phase
	if sp == nil { // re-attached by Load: the FIFO outlived the keeper
		sp = &stdinPipe{fifo: c.stdinPath(), once: c.spec.StdinOnce}
		c.stdin = sp
	}
	if phase == ContainerTerminated || sp.once && sp.attached {
		c.mu.Unlock()
		return nil, newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: stdin closed (%s)", ErrInvalidState, phase))
	}
	sp.attached = true
	c.mu.Unlock()
	// Non-blocking: fails (ENXIO) rather than hangs when no process reads.
	fd, err := unix.Open(sp.fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, newErr(op, s.cfg.ID, name, sp.fifo, err)
	}
	return &stdinAttach{File: os.NewFile(uintptr(fd), sp.fifo), c: c, sp: sp}, nil
}
