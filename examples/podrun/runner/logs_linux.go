//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// stopDrainTimeout bounds how long stop waits for the readers to see EOF
// once podrun closed its write ends. After a successful Destroy nothing
// else holds them and EOF is immediate; the bound only matters if some
// process of the pod survived.
const stopDrainTimeout = 5 * time.Second

// logManager gives every container (init containers too) a stdout pipe
// and a stderr pipe, and writes what comes out of them as CRI log files:
// "<RFC3339Nano> <stdout|stderr> <F|P> <message>" lines in
// DIR/<container>/<run>.log, one file per run of the container.
//
// The sandbox hands every run of a container a duplicate of the same two
// write ends, so the pipes outlive the runs; podrun keeps the write ends
// open until the pod is gone (stop), then closes them so the readers see
// EOF.
//
// Run boundaries: a pipe does not say which process wrote its bytes.
// rotate, called on the ContainerExited event, drains both pipes under
// the lock the readers hold while they read, and gives all of it to the
// run that exited, then starts the next run's file. Everything the exited
// run wrote is in the pipe by then (its processes are dead), and the next
// run only starts after the restart back-off, so the boundary is exact
// unless podrun handles the event later than the back-off (the next run's
// first lines then land in the previous file) or a leftover process of
// the old run (shareProcessNamespace) writes after the exit (attributed
// to the next run). Entries of the two streams are ordered by when podrun
// read them, as in kubelet; timestamps are that read time.
type logManager struct {
	dir          string
	out          *printer
	print        bool
	drainTimeout time.Duration // stopDrainTimeout; shorter in tests

	mu         sync.Mutex // guards everything below and every read of a pipe
	containers map[string]*containerLog
	order      []*containerLog
	readers    sync.WaitGroup
	started    bool
	stopped    bool
	// buf is every drain's read buffer (drains hold mu): one 64 KiB
	// allocation for the pod, where one per pipe and per rotation cost a
	// fresh process a page fault and a clear per page of each.
	buf []byte
}

// containerLog is one container's pipes and current CRI log file.
type containerLog struct {
	name    string
	run     int
	file    *os.File // this run's CRI log, created on its first entry
	streams [2]*pipeStream
}

// pipeStream is one of a container's two pipes.
type pipeStream struct {
	name  string // "stdout" or "stderr"
	r, w  *os.File
	split lineSplitter
}

func newLogManager(dir string, out *printer, print bool) *logManager {
	return &logManager{dir: dir, out: out, print: print, drainTimeout: stopDrainTimeout, containers: map[string]*containerLog{}}
}

// open creates the two pipes of each named container. On error nothing
// is left open.
func (m *logManager) open(names []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		c := &containerLog{name: n}
		m.containers[n] = c
		m.order = append(m.order, c)
		for i, s := range []string{streamStdout, streamStderr} {
			r, w, err := os.Pipe()
			if err != nil {
				m.closeAllLocked()
				return err
			}
			c.streams[i] = &pipeStream{name: s, r: r, w: w}
		}
	}
	return nil
}

// writers returns the write ends to put in the container's ContainerSpec.
func (m *logManager) writers(name string) (stdout, stderr *os.File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.containers[name]
	if c == nil {
		return nil, nil
	}
	return c.streams[0].w, c.streams[1].w
}

// start starts one reader goroutine per pipe.
func (m *logManager) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.stopped {
		return
	}
	m.started = true
	for _, c := range m.order {
		for _, s := range c.streams {
			m.readers.Add(1)
			go m.follow(c, s)
		}
	}
}

// follow reads one pipe until EOF (or the read deadline stop sets). The
// reads happen in the poller callback under m.mu, so rotate never runs
// between a read and the writing of what it read.
func (m *logManager) follow(c *containerLog, s *pipeStream) {
	defer m.readers.Done()
	if rc, err := s.r.SyscallConn(); err == nil {
		_ = rc.Read(func(fd uintptr) bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.drainLocked(c, s, int(fd))
		})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s.split.flush(m.emitter(c, s, time.Now()))
}

// drainLocked reads what the pipe holds without blocking and writes the
// entries it completes. It reports true at EOF or on a read error.
func (m *logManager) drainLocked(c *containerLog, s *pipeStream, fd int) bool {
	if m.buf == nil {
		m.buf = make([]byte, 64<<10)
	}
	for {
		n, err := unix.Read(fd, m.buf)
		switch {
		case n > 0:
			s.split.feed(m.buf[:n], m.emitter(c, s, time.Now()))
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return false
		default: // n == 0: EOF, or a real error
			return true
		}
	}
}

func (m *logManager) emitter(c *containerLog, s *pipeStream, now time.Time) func(tag string, msg []byte) {
	return func(tag string, msg []byte) { m.writeLocked(c, s.name, now, tag, msg) }
}

// writeLocked writes one entry to the run's file and, with --logs, the
// console.
func (m *logManager) writeLocked(c *containerLog, stream string, now time.Time, tag string, msg []byte) {
	if c.file == nil {
		dir := filepath.Join(m.dir, c.name)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			c.file, _ = os.OpenFile(filepath.Join(dir, strconv.Itoa(c.run)+".log"),
				os.O_CREATE|os.O_WRONLY|os.O_TRUNC|unix.O_CLOEXEC, 0o640)
		}
	}
	if c.file != nil {
		_ = writeCRI(c.file, now, stream, tag, msg)
	}
	if m.print {
		m.out.log(now, c.name, stream, string(msg))
	}
}

// rotate ends the current run of a container (its ContainerExited event):
// what its pipes hold now, and unterminated tails (as P entries), belong
// to that run; later output goes to the next run's file.
func (m *logManager) rotate(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.containers[name]
	if c == nil || m.stopped {
		return
	}
	for _, s := range c.streams {
		// Control, not Read: the reader goroutine holds the read lock of
		// the fd while it waits in the poller.
		if rc, err := s.r.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { m.drainLocked(c, s, int(fd)) })
		}
		s.split.flush(m.emitter(c, s, time.Now()))
	}
	if c.file != nil {
		_ = c.file.Close()
		c.file = nil
		c.run++
	}
}

// stop closes podrun's write ends, lets the readers drain the pipes to EOF
// (no longer than drainTimeout), and closes everything. Call it once
// no container runs any more (after Destroy). Safe to call twice.
func (m *logManager) stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	for _, c := range m.order {
		for _, s := range c.streams {
			if s != nil && s.w != nil {
				_ = s.w.Close()
				s.w = nil
			}
		}
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(m.drainTimeout):
		m.mu.Lock()
		for _, c := range m.order {
			for _, s := range c.streams {
				_ = s.r.SetReadDeadline(time.Now())
			}
		}
		m.mu.Unlock()
		<-done
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeAllLocked()
}

// closeAllLocked closes every pipe end and file still open.
func (m *logManager) closeAllLocked() {
	for _, c := range m.order {
		for _, s := range c.streams {
			if s == nil { // open failed before this pipe
				continue
			}
			if s.w != nil {
				_ = s.w.Close()
				s.w = nil
			}
			if s.r != nil {
				_ = s.r.Close()
				s.r = nil
			}
		}
		if c.file != nil {
			_ = c.file.Close()
			c.file = nil
		}
	}
	m.order, m.containers = nil, map[string]*containerLog{}
}
