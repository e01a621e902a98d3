//go:build linux

package sandbox

import (
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// libcontainer's nsexec makes its stage-1 child ("runc:[1:CHILD]") and the
// container init ("runc:[2:INIT]" until it execs) children of the manager
// (CLONE_PARENT). On the success path libcontainer reaps the stage-1 child
// and container.reap the init. When a start fails midway (the pod's pause
// was killed meanwhile, say) either may be left a zombie nobody waits for,
// and a zombie in a pod's PID namespace keeps that namespace's PID 1, the
// pause, from finishing its own exit: the kernel's zap_pid_ns_processes
// waits until every task of the namespace is reaped. Destroy would wait
// for the pause forever.
//
// reapStrays reaps those zombies. It must never take one a libcontainer
// call in flight or a reaper goroutine will wait for: every libcontainer
// spawn holds spawnMu for reading (reapStrays takes it for writing, so no
// stage-1 child of a running Start can be taken), and every init a
// goroutine waits for is in trackedInits.
var (
	spawnMu      sync.RWMutex
	trackedInits sync.Map // pid (int) -> struct{}
)

// reapStrays reaps every zombie child of this process that libcontainer
// left behind (see above) and returns how many it reaped.
func reapStrays() int {
	return reapZombieChildren(func(_ int, comm string) bool {
		return comm == "runc:[1:CHILD]" || comm == "runc:[2:INIT]"
	})
}

// reapZombieChildren reaps the zombie children of this process that no
// goroutine waits for (trackedInits) and that match says to, and returns
// how many it reaped.
func reapZombieChildren(match func(pid int, comm string) bool) int {
	spawnMu.Lock()
	defer spawnMu.Unlock()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self, n := os.Getpid(), 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, ok := zombieChild(pid, self)
		if !ok || !match(pid, comm) {
			continue
		}
		if _, tracked := trackedInits.Load(pid); tracked {
			continue
		}
		var ws unix.WaitStatus
		if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil); got == pid {
			n++
		}
	}
	return n
}

// reapPodZombies reaps the zombie children of this process that were in
// the pod's cgroups and that no goroutine waits for: a container init
// whose manager was killed between its fork and the state save that
// records it. The next manager, the subreaper that inherits it, does not
// know it. In a shared PID namespace such a zombie keeps the pod's PID 1,
// the pause, from finishing its exit; in a private one it would stay this
// process's zombie for its life. A zombie has no namespaces left to
// compare, but /proc still names its cgroups. Only a pod rebuilt by Load
// can have such zombies: every process this manager forked is tracked.
func (s *Sandbox) reapPodZombies() {
	if s.cg == nil || !s.loaded {
		return
	}
	reapZombieChildren(func(pid int, _ string) bool { return s.cg.held(pid) })
}

// zombieChild says whether pid is a zombie whose parent is self, and
// gives its command name.
func zombieChild(pid, self int) (comm string, ok bool) {
	comm, f, err := readProcStat(pid) // f: state, ppid, ...
	if err != nil || len(f) < 2 || string(f[0]) != "Z" {
		return "", false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return comm, err == nil && ppid == self
}
