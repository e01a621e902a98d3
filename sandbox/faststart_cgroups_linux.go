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
