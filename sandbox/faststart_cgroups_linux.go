//go:build linux

package sandbox

import (
	"errors"
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
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

// pendingCgroups are a fast container's cgroups, made on another goroutine
// while the build thread makes its mount namespace: the kernel's cgroup
// mkdirs (cgroup_mutex) and its mounts (namespace_sem) do not wait for
// each other. The directories a v1 "cgroup" mount binds are cloned there
// too (open_tree, in the manager's mount namespace): the build thread
// cannot reach host paths once it is in the container's.
type pendingCgroups struct {
	done  chan struct{}
	m     fastCgroups
	trees map[treeKey]int // detached clones, until the build takes them
	err   error
}

// makeFastCgroups starts newFastCgroups, cloning the v1 directories when
// clone is set.
func makeFastCgroups(cfg *cgroups.Cgroup, clone bool) *pendingCgroups {
	pc := &pendingCgroups{done: make(chan struct{}), trees: map[treeKey]int{}}
	go func() {
		defer close(pc.done)
		if pc.m, pc.err = newFastCgroups(cfg); pc.err != nil || !clone {
			return
		}
		for _, dir := range cgroupV1Dirs(pc.m.GetPaths()) {
			fd, err := cloneTree(dir, true)
			if err != nil {
				pc.err = err
				return
			}
			pc.trees[treeKey{dir, true}] = fd
		}
	}()
	return pc
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
// the create failed (buildErr) or the cgroups did, it removes them.
func (pc *pendingCgroups) settle(buildErr error) (fastCgroups, error) {
	<-pc.done
	for _, fd := range pc.trees {
		unix.Close(fd)
	}
	clear(pc.trees)
	if pc.err == nil && buildErr == nil {
		return pc.m, nil
	}
	if pc.m != nil {
		_ = pc.m.Destroy()
	}
	if pc.err != nil {
		return nil, pc.err
	}
	return nil, buildErr
}
