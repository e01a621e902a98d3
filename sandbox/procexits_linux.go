//go:build linux

package sandbox

import (
	"encoding/binary"
	"errors"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procExits learns the exit status of processes that are not this
// process's children (a container init re-attached after a crash of the
// manager, or one whose manager is gone) from the kernel's process events
// connector (NETLINK_CONNECTOR, CN_IDX_PROC; root only): its exit event
// carries the wait status, for any process, before the process's pidfd
// becomes readable. The most recent exits of thread-group leaders are
// kept by PID.
type procExits struct {
	fd      int
	mu      sync.Mutex
	cond    *sync.Cond
	recent  map[int]procExit
	order   []int
	notify  func(pid int, e procExit) // the guard's recorder, if any
	started time.Time
}

type procExit struct {
	Status   syscall.WaitStatus
	Finished time.Time
}

// procExitsKeep bounds how many recent exits are kept.
const procExitsKeep = 4096

var (
	procExitsOnce sync.Once
	procExitsW    *procExits
)

// procExitWatcher returns the process-wide listener, started on first use;
// nil if the kernel refuses it (no CONFIG_PROC_EVENTS, no privilege).
func procExitWatcher() *procExits {
	procExitsOnce.Do(func() {
		w, err := listenProcExits()
		if err == nil {
			procExitsW = w
		}
	})
	return procExitsW
}

// Constants of linux/connector.h and linux/cn_proc.h.
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventExit     = 0x80000000
	nlmsgHdrLen       = 16
	cnMsgLen          = 20
)

func listenProcExits() (*procExits, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	le := binary.LittleEndian // the connector speaks host order; podkit runs on little-endian arches
	le.PutUint32(msg[0:], uint32(len(msg)))
	le.PutUint16(msg[4:], unix.NLMSG_DONE)
	le.PutUint32(msg[16:], cnIdxProc)
	le.PutUint32(msg[20:], cnValProc)
	le.PutUint16(msg[32:], 4)
	le.PutUint32(msg[36:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	w := &procExits{fd: fd, recent: map[int]procExit{}, started: time.Now()}
	w.cond = sync.NewCond(&w.mu)
	go w.read()
	return w, nil
}

// read receives events for the life of the process (one thread blocked
// in recvfrom). A full socket buffer (ENOBUFS) loses events: their exits
// are then unknown, as without the listener.
func (w *procExits) read() {
	buf := make([]byte, 64<<10)
	le := binary.LittleEndian
	for {
		n, _, err := unix.Recvfrom(w.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return
		}
		for b := buf[:n]; len(b) >= nlmsgHdrLen; {
			l := int(le.Uint32(b))
			if l < nlmsgHdrLen || l > len(b) {
				break
			}
			w.event(b[nlmsgHdrLen:l])
			b = b[(l+3)&^3:]
		}
	}
}

// event handles one cn_msg carrying a proc_event: what, cpu,
// timestamp_ns, then for an exit pid, tgid, exit_code, exit_signal.
func (w *procExits) event(m []byte) {
	le := binary.LittleEndian
	if len(m) < cnMsgLen+16+16 || le.Uint32(m[0:]) != cnIdxProc {
		return
	}
	ev := m[cnMsgLen:]
	if le.Uint32(ev[0:]) != procEventExit {
		return
	}
	pid, tgid := int(int32(le.Uint32(ev[16:]))), int(int32(le.Uint32(ev[20:])))
	if pid != tgid {
		return // a thread; the leader's event carries the group's status
	}
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	ago := time.Duration(ts.Nano() - int64(le.Uint64(ev[8:])))
	e := procExit{Status: syscall.WaitStatus(le.Uint32(ev[24:])), Finished: time.Now().Add(-ago)}
	w.mu.Lock()
	if _, ok := w.recent[pid]; !ok {
		w.order = append(w.order, pid)
	}
	w.recent[pid] = e
	if len(w.order) > procExitsKeep {
		delete(w.recent, w.order[0])
		w.order = w.order[1:]
	}
	notify := w.notify
	w.cond.Broadcast()
	w.mu.Unlock()
	if notify != nil {
		notify(pid, e)
	}
}

// wait returns the exit of pid (a process known to have exited, or about
// to), waiting up to timeout for its event to be read.
func (w *procExits) wait(pid int, timeout time.Duration) (procExit, bool) {
	if w == nil {
		return procExit{}, false
	}
	t := time.AfterFunc(timeout, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(timeout)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if e, ok := w.recent[pid]; ok {
			return e, true
		}
		if !time.Now().Before(deadline) {
			return procExit{}, false
		}
		w.cond.Wait()
	}
}
