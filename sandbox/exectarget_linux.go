//go:build linux

package sandbox

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/nsjoin"
)

// execTarget is what every exec into one run of a container's init needs,
// opened on the first exec and kept until the init is reaped: handles on
// the init's namespaces, its cgroup directories, and open `tasks` files of
// its cgroup v1 hierarchies. Reopening them per exec cost ~0.25 ms of CPU
// (cgroupfs opens register with the poller; /proc/<pid>/cgroup is parsed;
// five namespaces are opened), a quarter of an exec. It holds 5 namespace
// descriptors plus one per v1 hierarchy while the container runs.
type execTarget struct {
	pid   int
	ns    *nsjoin.Set
	tasks []int  // O_WRONLY `tasks` files, one per distinct v1 directory
	v2dir string // the v2 (or hybrid unified) directory, for CLONE_INTO_CGROUP
	refs  int    // guarded by container.execMu: the cache's and each exec's
}

// joinCgroups runs on the thread that forks an exec'd process (its
// BeforeFork): it moves that thread into the container's directory of
// every v1 hierarchy by writing 0 to the open `tasks` files, as
// cgroup.JoinThread does (no by-pid migration and its 6-10 ms
// cgroup_threadgroup_rwsem wait), so the process is born there.
func (t *execTarget) joinCgroups() error {
	zero := []byte("0")
	for _, fd := range t.tasks {
		if _, err := unix.Write(fd, zero); err != nil {
			return fmt.Errorf("join container cgroup: %w", err)
		}
	}
	return nil
}

func (t *execTarget) close() {
	t.ns.Close()
	for _, fd := range t.tasks {
		unix.Close(fd)
	}
	t.tasks = nil
}

// acquireExecTarget returns the exec target of the init pid, opening it
// if the cache holds none (or one of an earlier run). Release it with
// releaseExecTarget once the process is started.
func (c *container) acquireExecTarget(pid int) (*execTarget, error) {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if t := c.execTgt; t != nil && t.pid == pid {
		t.refs++
		return t, nil
	}
	t, err := c.openExecTarget(pid)
	if err != nil {
		return nil, err
	}
	c.dropExecTargetLocked()
	t.refs = 2 // the cache's and the caller's
	c.execTgt = t
	return t, nil
}

func (c *container) releaseExecTarget(t *execTarget) {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	t.refs--
	if t.refs == 0 {
		t.close()
	}
}

// dropExecTarget empties the cache: the init is gone (or the container
// is being destroyed). Execs still using the target close it last.
func (c *container) dropExecTarget() {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	c.dropExecTargetLocked()
}

func (c *container) dropExecTargetLocked() {
	if t := c.execTgt; t != nil {
		c.execTgt = nil
		t.refs--
		if t.refs == 0 {
			t.close()
		}
	}
}

// openExecTarget opens the namespaces of the container's init (net, ipc,
// uts and pid, which are the pod's pins when shared, and its own mnt)
// through a pidfd, and its cgroups. The init is our child and is reaped
// only by c.reap, which marks the container terminated, so a pid still
// Running after the pidfd was opened is the init's (reuse needs the reap,
// then the whole pid space to wrap around between the reap and the check).
func (c *container) openExecTarget(pid int) (_ *execTarget, retErr error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: init pid %d: %w", ErrInvalidState, pid, err)
	}
	defer unix.Close(pidfd)
	c.mu.Lock()
	running := c.phase == ContainerRunning && c.pid == pid
	c.mu.Unlock()
	if !running {
		return nil, ErrInvalidState
	}
	paths, err := cgroupDirs(pid)
	if err != nil {
		return nil, err
	}
	t := &execTarget{pid: pid}
	defer func() {
		if retErr != nil {
			t.close()
		}
	}()
	var dirs []string
	for ctrl, dir := range paths {
		switch {
		case ctrl == "":
			t.v2dir = dir
		case !slices.Contains(dirs, dir):
			dirs = append(dirs, dir)
			fd, err := unix.Open(filepath.Join(dir, "tasks"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("open %s/tasks: %w", dir, err)
			}
			t.tasks = append(t.tasks, fd)
		}
	}
	t.ns, err = nsjoin.OpenSetPidfd(pidfd, nsjoin.Net, nsjoin.IPC, nsjoin.UTS, nsjoin.PID, nsjoin.Mount)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// initRoot is where the init's mount namespace is seen from ours.
func initRoot(pid int) string { return "/proc/" + strconv.Itoa(pid) + "/root" }
