//go:build linux

package cgroup

import "errors"

// ThreadJoiner is implemented by cgroups that can take a single OS thread
// (cgroup v1, where membership is per thread).
type ThreadJoiner interface {
	JoinThread() error
}

// JoinThread moves the calling OS thread, and only it, into c: on cgroup
// v1 it writes "0" to the tasks file of every hierarchy of c. Processes
// that thread forks afterwards are born in c and never migrated.
//
// Why: moving a process by pid (AddProcess, or a runtime writing
// cgroup.procs) takes the kernel's global cgroup_threadgroup_rwsem for
// writing, and the first such write after a quiet moment waits for an RCU
// grace period: measured 6–10 ms per move on the v1 hosts. A thread moving
// itself skips that lock (kernel/cgroup cgroup_procs_write_start: no
// threadgroup lock for the current task) and costs ~0.2 ms for five
// hierarchies.
//
// The caller must run on a goroutine locked to its OS thread
// (runtime.LockOSThread) and must let that thread die afterwards (return
// from the goroutine without unlocking): a thread left in c would carry
// every later goroutine scheduled on it into the container's cgroup.
//
// On cgroup v2 (no per-thread membership in domain cgroups) it fails with
// ErrUnsupported: start the process with clone3(CLONE_INTO_CGROUP) through
// OpenDir instead, which has the same effect.
func JoinThread(c Cgroup) error {
	if j, ok := c.(ThreadJoiner); ok {
		return j.JoinThread()
	}
	return &Error{Op: "join thread", Path: c.Path(), Err: wrapBoth(ErrUnsupported, errors.New("cgroup v2 has no per-thread membership; use OpenDir and CLONE_INTO_CGROUP"))}
}

// JoinThread implements ThreadJoiner. If a later hierarchy refuses, the
// thread is left partly moved: it must be thrown away either way.
func (c *cgroupV1) JoinThread() error {
	for _, d := range c.distinctDirs() {
		if err := writeFile(d+"/tasks", "0"); err != nil {
			return fsErr("join thread", c.path, err)
		}
	}
	return nil
}
