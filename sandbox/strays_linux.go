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
	spawnMu.Lock()
	defer spawnMu.Unlock()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self, n := os.Getpid(), 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !isStray(pid, self) {
			continue
		}
		if _, ok := trackedInits.Load(pid); ok {
			continue
		}
		var ws unix.WaitStatus
		if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil); got == pid {
			n++
		}
	}
	return n
}

// isStray says whether pid is a zombie child of self named by
// libcontainer's nsexec (stage 1, or an init that never exec'd).
func isStray(pid, self int) bool {
	comm, f, err := readProcStat(pid) // f: state, ppid, ...
	if err != nil || len(f) < 2 || string(f[0]) != "Z" || (comm != "runc:[1:CHILD]" && comm != "runc:[2:INIT]") {
		return false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return err == nil && ppid == self
}
