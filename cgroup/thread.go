//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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

// ThreadHome is the way back for a thread that joins a cgroup with
// JoinThread, forks, and must then live on: one that forked with a
// parent-death signal parks for the child's life, and a thread left in the
// child's cgroup would be frozen and killed with it (and the whole process
// with the thread). It holds the tasks files of the cgroups the thread was
// in, opened before it joined (cgroup v1 checks the opener's credentials).
type ThreadHome struct {
	tasks []*os.File
}

// SaveThreadHome opens, for every v1 hierarchy of c, the tasks file of the
// calling thread's current cgroup there. Call it on the locked thread that
// is about to JoinThread(c). On cgroup v2 it returns an empty home: no
// thread joins a v2 cgroup (CLONE_INTO_CGROUP instead).
func SaveThreadHome(c Cgroup) (*ThreadHome, error) {
	v1, ok := c.(*cgroupV1)
	if !ok {
		return &ThreadHome{}, nil
	}
	return saveThreadHome(v1.sys.l, v1.distinctDirs())
}

// SaveThreadHomeDirs is SaveThreadHome for a thread about to join the v1
// cgroup directories dirs (absolute paths under the host's hierarchies,
// as another cgroup manager made them). Directories of the cgroup2 tree
// are skipped.
func SaveThreadHomeDirs(dirs []string) (*ThreadHome, error) {
	l, err := detect()
	if err != nil {
		return nil, err
	}
	return saveThreadHome(l, dirs)
}

func saveThreadHome(l layout, dirs []string) (*ThreadHome, error) {
	current := readCgroupFile("/proc/thread-self/cgroup") // controller -> path
	if current == nil {
		return nil, &Error{Op: "save thread home", Path: "/proc/thread-self/cgroup", Err: errors.New("cannot read it")}
	}
	h := &ThreadHome{}
	seen := map[string]bool{}
	for _, dir := range dirs {
		mnt, ctrl := l.v1Hierarchy(dir)
		if mnt == "" || seen[mnt] {
			continue
		}
		seen[mnt] = true
		rel, ok := current[ctrl]
		if !ok {
			h.Close()
			return nil, &Error{Op: "save thread home", Path: dir, Err: fmt.Errorf("the thread's %s cgroup is not in /proc/thread-self/cgroup", ctrl)}
		}
		f, err := os.OpenFile(filepath.Join(mnt, rel, "tasks"), os.O_WRONLY, 0) // os opens with O_CLOEXEC
		if err != nil {
			h.Close()
			return nil, fsErr("save thread home", dir, err)
		}
		h.tasks = append(h.tasks, f)
	}
	return h, nil
}

// v1Hierarchy returns the mountpoint of the v1 hierarchy dir is in and
// one of its controllers; "" if dir is in none.
func (l layout) v1Hierarchy(dir string) (mnt, ctrl string) {
	for c, m := range l.v1 {
		if (dir == m || strings.HasPrefix(dir, m+"/")) && len(m) > len(mnt) {
			mnt, ctrl = m, c
		}
	}
	return mnt, ctrl
}

// Return moves the calling thread back into the cgroups it was in when the
// home was saved. Like JoinThread it moves only the calling thread, which
// takes no global lock.
func (h *ThreadHome) Return() error {
	for _, f := range h.tasks {
		if _, err := f.WriteString("0"); err != nil {
			return &Error{Op: "return thread home", Path: f.Name(), Err: err}
		}
	}
	return nil
}

// Close releases the tasks files.
func (h *ThreadHome) Close() {
	for _, f := range h.tasks {
		_ = f.Close()
	}
	h.tasks = nil
}
