//go:build linux

package cgroup

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// OOMEvent reports OOM kills in one cgroup.
type OOMEvent struct {
	Path  string    // the cgroup whose process was killed, e.g. "/podkit/pod1/app"
	Kills uint64    // kills since the previous event for this cgroup
	Total uint64    // the cgroup's OOM-kill counter now
	Time  time.Time // when the watcher saw it
}

// oomSource is one watched cgroup: a pollable fd that becomes readable on
// memory events, and the cgroup's oom_kill counter.
type oomSource interface {
	fd() int
	drain()
	kills() (uint64, error)
	close()
}

type watched struct {
	path    string
	src     oomSource
	last    uint64
	recheck time.Time // re-read the counter until then (v1 notifies before the kill is counted)
}

// recheckFor is how long after a notification the counter is re-read.
const recheckFor = 2 * time.Second

// OOMWatcher reports OOM kills of the cgroups added to it on a channel:
// v1 through an eventfd registered on memory.oom_control, v2 through
// inotify on memory.events(.local); a kill is an increase of the oom_kill
// counter, so mere OOM pressure without a kill is not reported. A cgroup
// that is deleted is dropped from the watcher. Close releases every fd and
// stops the goroutine.
type OOMWatcher struct {
	mu      sync.Mutex
	epfd    int
	wake    int
	srcs    map[int]*watched
	events  chan OOMEvent
	stop    chan struct{}
	done    chan struct{}
	closing bool
}

// NewOOMWatcher starts a watcher with no cgroups.
func NewOOMWatcher() (*OOMWatcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &Error{Op: "oomwatch", Path: "", Err: os.NewSyscallError("epoll_create1", err)}
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, &Error{Op: "oomwatch", Path: "", Err: os.NewSyscallError("eventfd", err)}
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil, &Error{Op: "oomwatch", Path: "", Err: os.NewSyscallError("epoll_ctl", err)}
	}
	w := &OOMWatcher{
		epfd: epfd, wake: wake, srcs: map[int]*watched{},
		events: make(chan OOMEvent, 64), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.loop()
	return w, nil
}

// Events delivers OOM events; it is closed after Close.
func (w *OOMWatcher) Events() <-chan OOMEvent { return w.events }

// Add starts watching c. Kills that happened before Add are not reported.
func (w *OOMWatcher) Add(c Cgroup) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return &Error{Op: "oomwatch", Path: c.Path(), Err: ErrClosed}
	}
	src, err := c.oom()
	if err != nil {
		return err
	}
	n, err := src.kills()
	if err != nil {
		src.close()
		return fsErr("oomwatch", c.Path(), err)
	}
	fd := src.fd()
	w.srcs[fd] = &watched{path: c.Path(), src: src, last: n}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
		delete(w.srcs, fd)
		src.close()
		return &Error{Op: "oomwatch", Path: c.Path(), Err: os.NewSyscallError("epoll_ctl", err)}
	}
	return nil
}

// Close stops the watcher, closes every fd and then the Events channel.
func (w *OOMWatcher) Close() error {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closing = true
	close(w.stop)
	if w.wake >= 0 {
		one := [8]byte{1}
		_, _ = unix.Write(w.wake, one[:])
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *OOMWatcher) loop() {
	defer w.shutdown()
	evs := make([]unix.EpollEvent, 16)
	for {
		timeout := w.nextTimeout()
		n, err := unix.EpollWait(w.epfd, evs, timeout)
		if err != nil && err != unix.EINTR {
			return
		}
		for _, ev := range evs[:max(n, 0)] {
			if int(ev.Fd) == w.wake {
				return
			}
			w.mu.Lock()
			if s := w.srcs[int(ev.Fd)]; s != nil {
				s.src.drain()
				s.recheck = time.Now().Add(recheckFor)
			}
			w.mu.Unlock()
		}
		if !w.check() {
			return
		}
	}
}

// nextTimeout is the epoll timeout: short while any counter needs
// re-reading, infinite otherwise.
func (w *OOMWatcher) nextTimeout() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for _, s := range w.srcs {
		if s.recheck.After(now) {
			return 20
		}
	}
	return -1
}

// check re-reads the counters of recently notified sources and sends an
// event for each increase. It drops sources whose cgroup is gone. It
// returns false when the watcher is stopping.
func (w *OOMWatcher) check() bool {
	var out []OOMEvent
	w.mu.Lock()
	now := time.Now()
	for fd, s := range w.srcs {
		if s.recheck.IsZero() {
			continue
		}
		if !s.recheck.After(now) {
			s.recheck = time.Time{}
		}
		n, err := s.src.kills()
		if err != nil {
			_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, fd, nil)
			s.src.close()
			delete(w.srcs, fd)
			continue
		}
		if n > s.last {
			out = append(out, OOMEvent{Path: s.path, Kills: n - s.last, Total: n, Time: now})
			s.last = n
		}
	}
	w.mu.Unlock()
	for _, ev := range out {
		select {
		case w.events <- ev:
		case <-w.stop:
			return false
		}
	}
	return true
}

func (w *OOMWatcher) shutdown() {
	w.mu.Lock()
	for fd, s := range w.srcs {
		s.src.close()
		delete(w.srcs, fd)
	}
	unix.Close(w.wake)
	unix.Close(w.epfd)
	w.wake, w.epfd = -1, -1
	w.mu.Unlock()
	close(w.events)
	close(w.done)
}
