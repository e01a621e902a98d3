//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/cgroup"
)

// fastCgroups is where a fast container's process is born: its directory
// in every hierarchy (by controller, "" for cgroup2) and the way to remove
// them.
type fastCgroups interface {
	GetPaths() map[string]string
	Destroy() error
}

// newFastCgroups places a fast container the way libcontainer's cgroup
// manager does (the same directories, the same device rules): on a v1 or
// hybrid host with podkit's cgroup package making the directories and
// libcontainer's v1 device emulator writing the rules, which spares the
// manager's per-controller path resolution and Apply/Set walk (~1 ms a
// create, more with many pods); on cgroup v2, whose device rules are an
// eBPF program, with libcontainer's manager itself. The container's limits
// are already on its leaf (podCgroup.newContainer).
func newFastCgroups(cfg *cgroups.Cgroup) (fastCgroups, error) {
	sys, err := cgroupSystem()
	if err != nil {
		return nil, err
	}
	if sys.Mode() == cgroup.ModeUnified || cgroups.DevicesSetV1 == nil {
		return libcontainerCgroups(cfg)
	}
	paths, err := sys.MkdirAll(cfg.Path)
	if err != nil {
		return nil, err
	}
	n := &nativeCgroups{paths: paths}
	if dir := paths["devices"]; dir != "" && !cfg.Resources.SkipDevices {
		if err := cgroups.DevicesSetV1(dir, cfg.Resources); err != nil {
			_ = n.Destroy()
			return nil, err
		}
	}
	return n, nil
}

// libcontainerCgroups is libcontainer's cgroup manager, applied.
func libcontainerCgroups(cfg *cgroups.Cgroup) (fastCgroups, error) {
	m, err := manager.New(cfg)
	if err != nil {
		return nil, err
	}
	err = m.Apply(-1)
	if err == nil {
		err = m.Set(cfg.Resources)
	}
	if err != nil {
		_ = m.Destroy()
		return nil, err
	}
	return m, nil
}

// nativeCgroups are the directories newFastCgroups made on a v1 host.
type nativeCgroups struct {
	paths map[string]string
}

func (n *nativeCgroups) GetPaths() map[string]string { return n.paths }

// Destroy removes the container's directories; its processes are gone
// (those of podkit's leaf hierarchies are removed with it too).
func (n *nativeCgroups) Destroy() error {
	var errs []error
	var done []string
	for _, dir := range n.paths {
		if slices.Contains(done, dir) {
			continue
		}
		done = append(done, dir)
		if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT {
			errs = append(errs, &cgroup.Error{Op: "remove", Path: dir, Err: err})
		}
	}
	return errors.Join(errs...)
}

// pendingCgroups are a fast container's cgroups, made on the create's goroutine
// while the build thread makes its mount namespace: the kernel's cgroup
// mkdirs (cgroup_mutex) and its mounts (namespace_sem) do not wait for
// each other. The directories a v1 "cgroup" mount binds are cloned there
// too (open_tree, in the manager's mount namespace: the build thread
// cannot reach host paths once it is in the container's), already with
// the mount's flags and the root's propagation (mount_setattr on the
// detached clones), so that the build thread only moves them in.
type pendingCgroups struct {
	done  chan struct{}
	leaf  cgroup.Cgroup // podkit's leaf, with the container's limits
	m     fastCgroups
	trees map[treeKey]int // detached clones, until the build takes them
	err   error
}

// fastCgroupsPlan is what pendingCgroups.make makes: the leaf name and limits
// in the pod cgroup, libcontainer's cgroup config, and the mount of the
// container's cgroups whose directories are cloned (isCgroupMount; nil:
// none).
type fastCgroupsPlan struct {
	pod         *podCgroup
	name        string
	limits      Resources
	cfg         *cgroups.Cgroup
	mount       *configs.Mount
	propagation int // of the clones: the rootfs' (MS_SLAVE|MS_REC by default)
}

// newPendingCgroups returns cgroups that make will make.
func newPendingCgroups() *pendingCgroups {
	return &pendingCgroups{done: make(chan struct{}), trees: map[treeKey]int{}}
}

// make makes plan's cgroups on the calling goroutine (the create's own,
// while the build thread mounts) and then releases paths' waiters.
func (pc *pendingCgroups) make(ctx context.Context, plan fastCgroupsPlan) {
	defer close(pc.done)
	if pc.leaf, pc.err = plan.pod.newContainer(ctx, plan.name, plan.limits); pc.err != nil {
		return
	}
	if pc.m, pc.err = newFastCgroups(plan.cfg); pc.err != nil || plan.mount == nil {
		return
	}
	if m := plan.mount; m.Device == "bind" { // v2: the container's own directory
		k := treeKey{m.Source, m.Flags&unix.MS_REC != 0}
		fd, err := cloneTree(k.path, k.rec)
		if err != nil {
			pc.err = err
			return
		}
		pc.trees[k] = fd
		return
	}
	for _, dir := range cgroupV1Dirs(pc.m.GetPaths()) {
		fd, err := cloneWithAttrs(dir, plan.mount.Flags, plan.propagation)
		if err != nil {
			pc.err = err
			return
		}
		pc.trees[treeKey{dir, true}] = fd
	}
}

// isCgroupMount says whether m mounts the container's own cgroups: v1's
// "cgroup" mount (a bind of its directory in each hierarchy), or on v2 the
// bind of its unified directory (cgroupMount). Its directories exist only
// once the cgroups are made, so the build thread waits for them there.
func isCgroupMount(m *configs.Mount) bool {
	return m.Device == "cgroup" || m.Device == "bind" && m.Destination == "/sys/fs/cgroup" && cgroups.IsCgroup2UnifiedMode()
}

// cloneWithAttrs is a detached recursive clone of dir whose mount flags
// are set as a bind remount with flags would set them, and whose
// propagation is propagation's (MS_REC applies it to the whole tree).
func cloneWithAttrs(dir string, flags, propagation int) (int, error) {
	fd, err := cloneTree(dir, true)
	if err != nil {
		return -1, err
	}
	attr := unix.MountAttr{Attr_set: uint64(mountAttrs(flags)), Propagation: uint64(propagation &^ unix.MS_REC),
		Attr_clr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	// A remount's atime mode is replaced only when it names one.
	if flags&(unix.MS_RELATIME|unix.MS_NOATIME|unix.MS_STRICTATIME|unix.MS_NODIRATIME) != 0 {
		attr.Attr_clr |= unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "mount_setattr", Path: dir, Err: err}
	}
	return fd, nil
}

// paths waits for the cgroups and returns their directories by controller.
func (pc *pendingCgroups) paths() (map[string]string, error) {
	<-pc.done
	if pc.err != nil {
		return nil, pc.err
	}
	return pc.m.GetPaths(), nil
}

// takeTrees moves the cloned directories into binds (whose owner closes
// them); call after paths.
func (pc *pendingCgroups) takeTrees(binds map[treeKey]int) {
	for k, fd := range pc.trees {
		if _, dup := binds[k]; dup { // a bind of the same directory
			unix.Close(fd)
			continue
		}
		binds[k] = fd
	}
	clear(pc.trees)
}

// settle waits for the cgroups and closes the clones nobody took; when
// the create failed (buildErr) or the cgroups did, it removes them, in
// the reverse order of their making.
func (pc *pendingCgroups) settle(ctx context.Context, plan fastCgroupsPlan, buildErr error) (cgroup.Cgroup, fastCgroups, error) {
	<-pc.done
	for _, fd := range pc.trees {
		unix.Close(fd)
	}
	clear(pc.trees)
	if pc.err == nil && buildErr == nil {
		return pc.leaf, pc.m, nil
	}
	if pc.m != nil {
		_ = pc.m.Destroy()
	}
	if pc.leaf != nil {
		_ = plan.pod.removeContainer(ctx, plan.name)
	}
	if pc.err != nil {
		return nil, nil, pc.err
	}
	return nil, nil, buildErr
}
