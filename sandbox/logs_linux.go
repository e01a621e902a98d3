//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Container output and the log file.
//
// A container that writes to its log file (no Stdout and Stderr of the
// caller) writes into a FIFO, <sandbox dir>/io/<name>.out (and with LogCRI
// stderr into <name>.err), made afresh for each run; a copier goroutine of
// the manager reads it and appends to the log file, so that
// ReopenContainerLog can swap the file underneath. The container's end is
// opened read-write, as containerd's shim opens its FIFOs: while no
// manager reads (it crashed), the container never gets SIGPIPE, its output
// waits in the pipe (1 MiB where pipe-max-size allows, else 64 KiB; a
// writer blocks once it is full), and Load resumes copying from the same
// FIFO. The copier of a run ends when every process holding the
// container's end is gone.

// logSink is a container's log file, shared by the copiers of its runs.
type logSink struct {
	path    string
	mu      sync.Mutex
	f       *os.File              // open while a copier runs
	readers map[*os.File]struct{} // the FIFO ends being copied
	wg      sync.WaitGroup

	tapMu sync.Mutex
	taps  map[*tap]struct{} // attaches in progress (tap_linux.go)
}

// LogFormat is how a container's output is written to its log file.
type LogFormat string

// Log formats.
const (
	// LogRaw writes the output as the container wrote it, stdout and
	// stderr through one pipe (their order kept).
	LogRaw LogFormat = ""
	// LogCRI writes the CRI's format, which kubelet reads: one line per
	// line of output, "<RFC 3339 time> <stdout|stderr> <F|P> <text>", a
	// line longer than MaxLogLine split into P(artial) pieces ending in
	// an F(ull) one.
	LogCRI LogFormat = "cri"
)

// logPipeSize is the capacity asked for each log FIFO.
const logPipeSize = 1 << 20

// MaxLogLine is the longest line LogCRI writes as one entry (containerd's
// default max_container_log_line_size).
const MaxLogLine = 16 << 10

// fifoPath is the FIFO of one stream: .out carries stdout (and stderr in
// LogRaw), .err stderr in LogCRI.
func (c *container) fifoPath(ext string) string {
	return filepath.Join(c.sb.dir, "io", c.spec.Name+ext)
}

// sink returns the container's log sink, made on first use.
func (c *container) sink() *logSink {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logs == nil {
		c.logs = &logSink{path: c.logPath(), readers: map[*os.File]struct{}{}}
	}
	return c.logs
}

// logPipes makes the FIFOs a new run needs for the streams not going to
// the caller's files and starts copying them; it returns the container's
// ends (nil for a stream not needed).
func (c *container) logPipes(needOut, needErr bool) (out, errw *os.File, err error) {
	if c.spec.LogFormat != LogCRI {
		w, err := c.logPipe(".out", "")
		if err != nil {
			return nil, nil, err
		}
		if needOut {
			out = w
		}
		if needErr {
			errw = w
		}
		return out, errw, nil
	}
	if needOut {
		if out, err = c.logPipe(".out", "stdout"); err != nil {
			return nil, nil, err
		}
	}
	if needErr {
		if errw, err = c.logPipe(".err", "stderr"); err != nil {
			if out != nil {
				out.Close()
			}
			return nil, nil, err
		}
	}
	return out, errw, nil
}

// freshFIFO makes a new FIFO at path (mode 0600, its directory 0700 if
// missing) in place of any file there.
func freshFIFO(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "unlink", Path: path, Err: err}
	}
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return nil
}

// logPipe makes the FIFO of one stream of a new run, starts copying it
// into the log file and returns the container's end (blocking,
// read-write). stream is "" in LogRaw.
func (c *container) logPipe(ext, stream string) (*os.File, error) {
	fifo := c.fifoPath(ext)
	// A fresh FIFO: the copier of an earlier run may still drain the old
	// one, and must not take this run's output.
	if err := freshFIFO(fifo); err != nil {
		return nil, err
	}
	// The read end first: opened non-blocking it needs no writer, and it
	// sees no EOF until the container's end, opened next, is gone.
	r, err := openFIFO(fifo, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	// Raw open: os.OpenFile would make a FIFO non-blocking for Go's poller,
	// and the container's writes would then fail with EAGAIN.
	w, err := openFIFO(fifo, unix.O_RDWR)
	if err != nil {
		r.Close()
		return nil, err
	}
	// A larger pipe: fewer wake-ups of the copier, and more output kept
	// while no manager reads. Best effort (pipe-max-size may be lower).
	if rc, err := w.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, logPipeSize) })
	}
	l := c.sink()
	l.mu.Lock()
	err = l.openLocked()
	l.mu.Unlock()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	l.copy(r, stream)
	return w, nil
}

func openFIFO(path string, flags int) (*os.File, error) {
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// resumeLogs starts copying the FIFOs of a run re-attached by Load; a run
// that wrote to the caller's files has none.
func (c *container) resumeLogs() {
	streams := [][2]string{{".out", ""}}
	if c.spec.LogFormat == LogCRI {
		streams = [][2]string{{".out", "stdout"}, {".err", "stderr"}}
	}
	for _, st := range streams {
		if r, err := openFIFO(c.fifoPath(st[0]), unix.O_RDONLY|unix.O_NONBLOCK); err == nil {
			c.sink().copy(r, st[1])
		}
	}
}

// openLocked opens the log file (l.mu held) unless it is open.
func (l *logSink) openLocked() error {
	if l.f != nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0o640)
	if err != nil {
		return err
	}
	l.f = f
	return nil
}

// copy copies r into the log file until EOF (every writer gone) or until
// r is closed by stop: as it comes (stream "") or as CRI lines of stream.
// The file is closed when the last copier ends.
func (l *logSink) copy(r *os.File, stream string) {
	l.mu.Lock()
	l.readers[r] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		if stream == "" {
			drain(r, func(b []byte) {
				l.tee("", b)
				l.write(b)
			})
		} else {
			lines := &criLines{stream: stream}
			drain(r, func(b []byte) {
				l.tee(stream, b)
				lines.feed(b, l.write)
			})
			lines.end(l.write)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.readers, r)
		r.Close()
		if len(l.readers) == 0 && l.f != nil {
			l.f.Close()
			l.f = nil
		}
	}()
}

// write appends b to the log file; output is dropped while the file
// cannot be opened (as a full disk drops it).
func (l *logSink) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.openLocked() == nil {
		_, _ = l.f.Write(b)
	}
}

// reopen opens the log path anew and switches the copiers to it.
func (l *logSink) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.readers) == 0 {
		return nil // nothing is open: the next run opens the path
	}
	old := l.f
	l.f = nil
	if err := l.openLocked(); err != nil {
		l.f = old
		return err
	}
	if old != nil {
		old.Close()
	}
	return nil
}

// logDrainTimeout bounds how long an exit waits for the container's output
// to be copied once its processes are gone.
const logDrainTimeout = 5 * time.Second

// awaitLogs waits until the copiers have copied everything (their writers
// are gone with the container's processes), at most logDrainTimeout: an
// exit is recorded after the output that preceded it, as containerd's CRI
// waits for a task's I/O. It reports whether they finished.
func (c *container) awaitLogs() bool {
	c.mu.Lock()
	l := c.logs
	c.mu.Unlock()
	if l == nil {
		return true
	}
	drained := make(chan struct{})
	go func() { l.wg.Wait(); close(drained) }()
	select {
	case <-drained:
		return true
	case <-time.After(logDrainTimeout):
		return false
	}
}

// stopLogs is awaitLogs, then cuts off copiers still running (a writer
// outlived the container's processes).
func (c *container) stopLogs() {
	if c.awaitLogs() {
		return
	}
	l := c.logs
	l.mu.Lock()
	for r := range l.readers {
		r.Close() // unblocks its Read
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// ReopenContainerLog reopens a container's log file at its path (the CRI's
// ReopenContainerLog): after a log rotator renamed the file, output from
// then on goes to a new file at the old path. A container whose output
// goes to the caller's Stdout and Stderr has no log file to reopen
// (ErrInvalidState).
func (s *Sandbox) ReopenContainerLog(name string) error {
	const op = "reopen log"
	c, err := s.container(op, name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	l := c.logs
	c.mu.Unlock()
	if l == nil {
		return newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: the container writes to the caller's Stdout and Stderr", ErrInvalidState))
	}
	if err := l.reopen(); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return newErr(op, s.cfg.ID, name, l.path, err)
	}
	return nil
}
