//go:build linux

package ownfork

import (
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaxFiles is the most descriptors a child can be given (its 0..n-1).
const MaxFiles = 6

// Supported says whether this build has the C stage (cgo on amd64).
const Supported = supported

// Request is one fork and exec. Its fields mean what syscall.ForkExec's
// and SysProcAttr's of the same names mean.
type Request struct {
	Path        string
	Argv, Env   []string
	Dir         string // "" keeps the forking thread's
	Files       []int  // descriptors that become the child's 0..len-1; at most MaxFiles
	Setsid      bool
	Setctty     bool
	Ctty        int // the child's descriptor number, with Setctty
	Pdeathsig   syscall.Signal
	Ptrace      bool
	Credential  *syscall.Credential
	AmbientCaps []uintptr
	CgroupFD    int  // a cgroup v2 directory to be born in (CLONE_INTO_CGROUP), or -1
	PidFD       bool // return a pidfd of the child (CLONE_PIDFD)
}

// Start forks and execs r from the calling thread, whose namespaces,
// cgroups, credentials, capabilities, no_new_privs and seccomp filter the
// child is born with, and returns the child's pid (and pidfd, with
// r.PidFD; else -1) once it has exec'd or failed to. With ok false nothing
// happened: fork the usual way. err is the child's failure before its
// exec, as syscall.ForkExec reports it (the child is reaped).
func Start(r *Request) (pid, pidfd int, ok bool, err error) {
	if !Available() || len(r.Files) > MaxFiles {
		return 0, -1, false, nil
	}
	g := slots.take()
	if g == nil {
		return 0, -1, false, nil
	}
	defer slots.give(g)
	if !g.fill(r.Files) {
		refused.Store(true) // our slots were closed under us: never again
		return 0, -1, false, nil
	}
	pid, pidfd, step, err := spawnC(r, g.fds[:len(r.Files)], slots.below)
	if err == nil {
		Spawns.Add(1)
		return pid, pidfd, true, nil
	}
	if pidfd >= 0 {
		unix.Close(pidfd)
	}
	if pid > 0 { // the child exited at step: reap it
		var ws unix.WaitStatus
		for {
			if _, werr := unix.Wait4(pid, &ws, 0, nil); werr != unix.EINTR {
				break
			}
		}
	}
	switch step {
	case "clone3", "close_range":
		refused.Store(true) // the kernel's or the host's refusal, not the program's
		return 0, -1, false, nil
	}
	return 0, -1, true, &os.PathError{Op: "fork/exec", Path: r.Path, Err: err}
}

// Available says whether Start can fork here now (the C stage is built and
// has not been refused), so that a caller builds a Request only then.
func Available() bool { return supported && !refused.Load() }

// Spawns counts the children Start forked (tests).
var Spawns atomic.Int64

// refused is set once this way failed for a reason that is not the
// program's: every later Start reports ok false.
var refused atomic.Bool

// groups is how many Starts can use the reserved slots at once (MaxFiles
// slots each); more at once fork the usual way.
const groups = 4

// slotGroup is the slots one Start uses.
type slotGroup struct{ fds [MaxFiles]int }

// slotPool hands out the groups of slots reserved at init. Each slot
// holds a descriptor of one memfd (placeholder) when free, so that a slot
// someone else closed and reused is noticed (fill) rather than clobbered.
type slotPool struct {
	free        chan *slotGroup
	placeholder int
	dev, ino    uint64
	below       int // one more than the highest slot
}

var slots = reserveSlots()

// reserveSlots runs at package init, while the process holds few
// descriptors, so that the slots are low numbers.
func reserveSlots() *slotPool {
	p := &slotPool{free: make(chan *slotGroup, groups), placeholder: -1}
	if !supported {
		return p
	}
	fd, err := unix.MemfdCreate("podkit-ownfork-slot", unix.MFD_CLOEXEC)
	if err != nil {
		refused.Store(true)
		return p
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		refused.Store(true)
		return p
	}
	p.placeholder, p.dev, p.ino, p.below = fd, st.Dev, st.Ino, fd+1
	for range groups {
		g := &slotGroup{}
		for i := range g.fds {
			s, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
			if err != nil {
				refused.Store(true)
				return p
			}
			g.fds[i], p.below = s, max(p.below, s+1)
		}
		p.free <- g
	}
	return p
}

// take returns a free group, or nil when every group is in use.
func (p *slotPool) take() *slotGroup {
	select {
	case g := <-p.free:
		return g
	default:
		return nil
	}
}

// give puts the placeholder back into g's slots (dropping the files Start
// put there) and frees the group.
func (p *slotPool) give(g *slotGroup) {
	for _, s := range g.fds {
		_ = unix.Dup3(p.placeholder, s, unix.O_CLOEXEC)
	}
	p.free <- g
}

// fill puts files into g's first slots, each still holding the
// placeholder; false if one does not (the slot is not ours any more).
func (g *slotGroup) fill(files []int) bool {
	for i, fd := range files {
		var st unix.Stat_t
		if unix.Fstat(g.fds[i], &st) != nil || st.Dev != slots.dev || st.Ino != slots.ino {
			return false
		}
		if unix.Dup3(fd, g.fds[i], unix.O_CLOEXEC) != nil {
			return false
		}
	}
	return true
}
