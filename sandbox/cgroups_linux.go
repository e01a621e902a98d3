//go:build linux

package sandbox

import (
	"errors"
	"os"
	"path"
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
	// A concurrent Destroy may rmdir the shared parent between mkdir calls
	// of different hierarchies; retry a few times on ENOENT.
	for i := 0; i < 5; i++ {
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

// destroy removes the pod cgroup subtree in every hierarchy, then the
// parent if it became empty. Missing directories are fine (idempotent).
func (pc *podCgroup) destroy() error {
	if pc.mgr == nil {
		return nil
	}
	paths := pc.mgr.GetPaths()
	err := cgroups.RemovePaths(paths)
	for _, p := range paths {
		// Only the parent directly above the pod; ignore EBUSY/ENOTEMPTY,
		// other pods may live there.
		_ = unix.Rmdir(path.Dir(p))
	}
	return err
}

func (pc *podCgroup) oomKillCount() uint64 {
	n, _ := pc.mgr.OOMKillCount()
	return n
}
