//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/podkit/podkit/cgroup"
	"golang.org/x/sys/unix"
)

// podCgroup is the pod's cgroup, built on podkit's cgroup package: the pod
// cgroup <CgroupParent>/<ID> with the pod-level limits, the pause leaf
// (cgroup.PauseName; none for a pinned-only pod) and one leaf per
// container with the container's limits. libcontainer only joins a
// container's leaf (with device rules).
type podCgroup struct {
	sys *cgroup.System
	rel string // path inside every hierarchy, e.g. /podkit/<id>
	pod *cgroup.Pod
	// keepParent: destroy leaves the parent directories (KeepCgroupParent).
	keepParent bool
}

var (
	hostCgroupsOnce sync.Once
	hostCgroups     *cgroup.System
	hostCgroupsErr  error
)

// cgroupSystem is the host's cgroup setup, detected once per process.
func cgroupSystem() (*cgroup.System, error) {
	hostCgroupsOnce.Do(func() { hostCgroups, hostCgroupsErr = cgroup.Host() })
	return hostCgroups, hostCgroupsErr
}

// CgroupParentExists says whether the cgroup parent is there already, in
// any of the host's hierarchies. A manager that names a parent someone else
// may have made (by hand, or a service manager, with limits for what runs
// under it) sets Config.KeepCgroupParent from it before Create, so that
// the last pod out does not remove it. The hierarchies are the ones Create
// and Destroy use, detected once per process.
func CgroupParentExists(parent string) (bool, error) {
	sys, err := cgroupSystem()
	if err != nil {
		return false, err
	}
	for _, root := range sys.Roots() {
		if st, err := os.Stat(path.Join(root, parent)); err == nil && st.IsDir() {
			return true, nil
		}
	}
	return false, nil
}

// cgroupRel returns the in-hierarchy path of the pod cgroup.
func cgroupRel(parent, id string) string { return path.Join("/", parent, id) }

// toCgroup converts sandbox limits to the cgroup package's (Kubernetes
// units); nil when nothing is limited.
func (r Resources) toCgroup() *cgroup.Resources {
	var cr cgroup.Resources
	set := false
	if r.MemoryLimit > 0 {
		cr.Memory, set = &cgroup.Memory{Limit: r.MemoryLimit}, true
	}
	if r.CPURequestMilli > 0 || r.CPULimitMilli > 0 || r.CPUShares > 0 || r.CPUQuotaUs > 0 || r.CPUPeriodUs > 0 {
		cr.CPU, set = r.cgroupCPU(), true
	}
	if r.PidsLimit > 0 {
		cr.Pids, set = &cgroup.Pids{Max: r.PidsLimit}, true
	}
	if !set {
		return nil
	}
	return &cr
}

// newPodCgroup creates the pod cgroup and, unless noPause (pinned-only
// namespaces: no pause process), its pause leaf. A concurrent Destroy may
// rmdir the shared parent between our mkdir of the parent and of the pod
// cgroup (see destroy); the creation is then retried.
func newPodCgroup(parent, id string, r Resources, noPause bool) (*podCgroup, error) {
	sys, err := cgroupSystem()
	if err != nil {
		return nil, err
	}
	if strings.Trim(parent, "/") != "" {
		// Best effort: without it libcontainer writes the cpus and mems
		// of each container's cpuset itself, as before.
		_ = sys.CloneCpusetChildren(parent)
	}
	cfg := cgroup.PodConfig{Parent: path.Join("/", parent), ID: id, Resources: r.toCgroup(), NoPauseLeaf: noPause}
	var pod *cgroup.Pod
	for i := 0; i < 20; i++ {
		if pod, err = sys.NewPod(cfg); err == nil || !errors.Is(err, cgroup.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &podCgroup{sys: sys, rel: cgroupRel(parent, id), pod: pod}, nil
}

// loadPodCgroup reattaches to an existing pod cgroup. A half-built one
// (crash during Create) still yields a podCgroup whose destroy removes
// whatever exists.
func loadPodCgroup(parent, id string) (*podCgroup, error) {
	sys, err := cgroupSystem()
	if err != nil {
		return nil, err
	}
	pc := &podCgroup{sys: sys, rel: cgroupRel(parent, id)}
	pc.pod, _ = sys.LoadPod(cgroup.PodConfig{Parent: path.Join("/", parent), ID: id})
	return pc, nil
}

// container returns the leaf of a container, creating it with limits r
// (a leftover from an earlier run of the container is removed first).
func (pc *podCgroup) newContainer(ctx context.Context, name string, r Resources) (cgroup.Cgroup, error) {
	if _, err := pc.pod.Container(name); err == nil {
		if err := pc.pod.RemoveContainer(ctx, name); err != nil {
			return nil, err
		}
	}
	return pc.pod.AddContainer(name, r.toCgroup())
}

// containerPath is the cgroup path of container name's leaf (made by
// newContainer).
func (pc *podCgroup) containerPath(name string) string {
	return pc.pod.Cgroup().Path() + "/" + name
}

// removeContainer kills what is left in a container's leaf and deletes it;
// a leaf that is already gone is fine.
func (pc *podCgroup) removeContainer(ctx context.Context, name string) error {
	if pc.pod == nil {
		return nil
	}
	err := pc.pod.RemoveContainer(ctx, name)
	if errors.Is(err, cgroup.ErrNotExist) {
		return nil
	}
	return err
}

// killAll SIGKILLs everything in the pod subtree and waits for it to be
// empty (within ctx).
func (pc *podCgroup) killAll(ctx context.Context) error {
	cg, err := pc.sys.Open(pc.rel)
	if errors.Is(err, cgroup.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := cg.KillAll(ctx); err != nil && !errors.Is(err, cgroup.ErrNotExist) {
		return err
	}
	return nil
}

// held says whether /proc names the pod cgroup, or one below it, as a
// cgroup of pid (in any hierarchy); a zombie keeps that entry until it is
// reaped.
func (pc *podCgroup) held(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3) // hierarchy-ID:controllers:path
		if len(f) == 3 && (f[2] == pc.rel || strings.HasPrefix(f[2], pc.rel+"/")) {
			return true
		}
	}
	return false
}

// destroy removes the pod cgroup subtree in every hierarchy (including
// ones only libcontainer touched), then, unless keepParent, every
// directory of CgroupParent that became empty, deepest first. Missing
// directories are fine.
//
// The rule for the shared parent: the last pod to leave removes it. A
// parent that still holds other pods fails rmdir with EBUSY/ENOTEMPTY and
// stays; one already removed by a concurrent Destroy (ENOENT) is skipped.
// A concurrent Create whose mkdir of the pod cgroup then hits ENOENT
// retries (newPodCgroup), recreating the parent.
func (pc *podCgroup) destroy(ctx context.Context) error {
	err := pc.sys.Remove(ctx, pc.rel)
	if pc.keepParent {
		return err
	}
	levels := strings.Count(strings.Trim(pc.rel, "/"), "/")
	for _, root := range pc.sys.Roots() {
		removeEmptyParents(root+path.Dir(pc.rel), levels)
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
