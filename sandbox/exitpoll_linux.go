//go:build linux

package sandbox

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// awaitPidfd returns once the process behind pidfd, our child or
// re-attached and not yet reaped, has exited (pidfds turn readable at
// exit). The caller then reaps it, which no longer blocks, and keeps pidfd
// open until this returns.
//
// Every wait shares one epoll instance and one goroutine waiting on it,
// and uses the pidfd its owner already holds (the pause's,
// the one os.Process keeps): a goroutine blocked in waitid or poll holds
// an OS thread (2,000 at 1,000 pods), and a descriptor of its own per
// process would be one more for each of the manager's forks to copy and
// each of their execs to close. Where epoll refuses, it polls on a thread.
func awaitPidfd(pidfd int) {
	if pidfd < 0 {
		return // no pidfd (a kernel without them): the caller's wait blocks
	}
	ch, ok := exitWaits.add(pidfd)
	if !ok {
		pollExit(pidfd)
		return
	}
	<-ch
}

// exitWaits is the epoll instance awaitPidfd registers pidfds with, each
// one shot, keyed by a token in the event's data.
var exitWaits exitWaiters

type exitWaiters struct {
	once    sync.Once
	epfd    int
	poll    syscall.RawConn // epfd in the runtime's poller; it keeps its os.File alive
	err     error
	mu      sync.Mutex
	next    int32
	waiters map[int32]chan struct{}
}

// start makes the epoll instance and its goroutine (Preload calls it, so
// that a leak check counts its descriptor in the baseline). The instance
// is itself watched by the runtime's poller (an epoll descriptor turns
// readable when it has events): the goroutine waits parked, not in
// epoll_wait, which would keep a P, one of GOMAXPROCS, from the
// manager's other goroutines until the runtime's monitor takes it back.
func (w *exitWaiters) start() error {
	w.once.Do(func() {
		if w.epfd, w.err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); w.err != nil {
			return
		}
		// Nonblocking, so that os.NewFile registers it with the poller.
		if w.err = unix.SetNonblock(w.epfd, true); w.err != nil {
			return
		}
		if w.poll, w.err = os.NewFile(uintptr(w.epfd), "podkit-exits").SyscallConn(); w.err != nil {
			return
		}
		w.waiters = map[int32]chan struct{}{}
		go w.loop()
	})
	return w.err
}

func (w *exitWaiters) add(pidfd int) (<-chan struct{}, bool) {
	if w.start() != nil {
		return nil, false
	}
	ch := make(chan struct{})
	w.mu.Lock()
	w.next++
	token := w.next
	for w.waiters[token] != nil { // wrapped around onto a wait still open
		w.next++
		token = w.next
	}
	w.waiters[token] = ch
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: token}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, pidfd, &ev); err != nil {
		w.mu.Lock()
		delete(w.waiters, token)
		w.mu.Unlock()
		return nil, false
	}
	return ch, true
}

// loop drains the instance each time the poller finds it readable, for
// the manager's life (the file is never closed).
func (w *exitWaiters) loop() {
	events := make([]unix.EpollEvent, 64)
	_ = w.poll.Read(func(epfd uintptr) bool {
		for {
			n, err := unix.EpollWait(int(epfd), events, 0)
			if err != nil {
				n = 0 // EINTR: the poller calls again
			}
			w.wake(events[:n])
			if n < len(events) {
				return false // drained: wait for the next event
			}
		}
	})
}

// wake ends the waits whose events came.
func (w *exitWaiters) wake(events []unix.EpollEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range events {
		if ch := w.waiters[ev.Fd]; ch != nil {
			delete(w.waiters, ev.Fd)
			close(ch)
		}
	}
}

// pollExit waits in poll(2) until pidfd is readable.
func pollExit(pidfd int) {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return
		}
	}
}
