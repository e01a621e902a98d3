//go:build linux

package sandbox

import (
	"errors"
	"maps"
	"os"
	"path"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"
)

// podCgroup is the pod-level cgroup (limits for the whole pod) with the
// pause process in its own leaf. Container leaves are created below it by
// libcontainer. It works on cgroup v1 (every mounted hierarchy, including
// the empty unified one of a hybrid host) and on v2.
//
// This is a small shim over github.com/opencontainers/cgroups; the podkit
// cgroup package offers the same operations with a richer API.
type podCgroup struct {
	rel   string // path inside every hierarchy, e.g. /podkit/<id>
	mgr   cgroups.Manager
	pause cgroups.Manager
}

func (r Resources) toCgroups() *cgroups.Resources {
	cr := &cgroups.Resources{
		Memory:      r.MemoryLimit,
		CpuShares:   r.CPUShares,
		CpuQuota:    r.CPUQuota,
		CpuPeriod:   r.CPUPeriod,
		SkipDevices: true,
	}
	if r.PidsLimit > 0 {
		cr.PidsLimit = &r.PidsLimit
	}
	return cr
}

// cgroupRel returns the in-hierarchy path of the pod cgroup.
func cgroupRel(parent, id string) string { return path.Join("/", parent, id) }

func newPodCgroup(rel string, r Resources) (*podCgroup, error) {
	pc := &podCgroup{rel: rel}
	var err error
	// A concurrent Destroy may rmdir the shared parent (see destroy)
	// between our mkdir of the parent and of the pod cgroup, in any
	// hierarchy; mkdir then fails with ENOENT and the whole Apply is retried
	// (it is idempotent: existing directories are kept).
	for i := 0; i < 20; i++ {
		if pc.mgr, err = manager.New(&cgroups.Cgroup{Path: rel, Resources: r.toCgroups()}); err != nil {
			return nil, err
		}
		if err = pc.mgr.Apply(-1); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err == nil {
		err = pc.mgr.Set(r.toCgroups())
	}
	if err != nil {
		_ = pc.destroy()
		return nil, err
	}
	return pc, nil
}

// loadPodCgroup reattaches to an existing pod cgroup (or one that may be
// half-built) without creating anything.
func loadPodCgroup(rel string) (*podCgroup, error) {
	m, err := manager.New(&cgroups.Cgroup{Path: rel, Resources: &cgroups.Resources{SkipDevices: true}})
	if err != nil {
		return nil, err
	}
	return &podCgroup{rel: rel, mgr: m}, nil
}

// pauseLeafName cannot collide with a container: IDs start alphanumeric.
const pauseLeafName = "_pause"

// pauseLeaf creates the pause leaf without moving anything into it.
func (pc *podCgroup) pauseLeaf() error {
	m, err := manager.New(&cgroups.Cgroup{Path: path.Join(pc.rel, pauseLeafName), Resources: &cgroups.Resources{SkipDevices: true}})
	if err != nil {
		return err
	}
	pc.pause = m
	return m.Apply(-1)
}

// addPause moves pid into the pause leaf. On cgroup v1 this is a
// migration, whose first write in a while waits for an RCU grace period
// (cgroup_threadgroup_rwsem): a few milliseconds of Create's latency. On v2
// the pause is cloned straight into the leaf instead (pause.Options
// UseCgroupFD) and addPause is not needed.
func (pc *podCgroup) addPause(pid int) error {
	if pc.pause == nil {
		if err := pc.pauseLeaf(); err != nil {
			return err
		}
	}
	return pc.pause.Apply(pid)
}

// killAll freezes the whole pod subtree, SIGKILLs everything in it and
// waits (with a generous deadline) for it to be empty.
func (pc *podCgroup) killAll() error {
	_ = pc.mgr.Freeze(cgroups.Frozen)
	pids, _ := pc.mgr.GetAllPids()
	for _, p := range pids {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	_ = pc.mgr.Freeze(cgroups.Thawed)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pids, err := pc.mgr.GetAllPids()
		if err != nil || len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("processes survive in pod cgroup")
}

// destroy removes the pod cgroup subtree in every hierarchy, then every
// directory of CgroupParent that became empty, deepest first. Missing
// directories are fine (idempotent).
//
// The rule for the shared parent: the last pod to leave removes it. A
// parent that still holds other pods fails rmdir with EBUSY/ENOTEMPTY and
// stays; one already removed by a concurrent Destroy (ENOENT) is skipped.
// A concurrent Create whose mkdir of the pod cgroup then hits ENOENT
// retries from the top (newPodCgroup), recreating the parent.
func (pc *podCgroup) destroy() error {
	if pc.mgr == nil {
		return nil
	}
	// cgroups.RemovePaths deletes the entries it removed from the map it is
	// given, and on v1 GetPaths returns the manager's own map: work on
	// copies, or the parents below would never be seen.
	paths := maps.Clone(pc.mgr.GetPaths())
	err := cgroups.RemovePaths(maps.Clone(paths))
	levels := strings.Count(strings.Trim(pc.rel, "/"), "/")
	for _, p := range paths {
		removeEmptyParents(path.Dir(p), levels)
	}
	return err
}

// removeEmptyParents removes dir and up to levels-1 of its ancestors while
// they are empty; it stops at the first one still in use.
func removeEmptyParents(dir string, levels int) {
	for ; levels > 0; levels-- {
		if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT {
			return // EBUSY/ENOTEMPTY: other pods live there
		}
		dir = path.Dir(dir)
	}
}

func (pc *podCgroup) oomKillCount() uint64 {
	n, _ := pc.mgr.OOMKillCount()
	return n
}
