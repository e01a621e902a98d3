//go:build linux

package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// PodShmSize is the size of the pod's /dev/shm tmpfs: containerd's
// default for a sandbox's shm (64 MiB), which kubelet does not change.
const PodShmSize = 64 << 20

// shmDir is the pod's /dev/shm on the host: a tmpfs every container binds
// at /dev/shm, so POSIX shared memory (shm_open) works across the
// containers of a pod, as they share its IPC namespace.
func shmDir(sbDir string) string { return filepath.Join(sbDir, "shm") }

// makeShm mounts the pod's /dev/shm tmpfs (nosuid, nodev, noexec, 1777),
// as containerd does for a sandbox with its own IPC namespace. A pod in
// the host's IPC namespace (Config.HostIPC) gets none: its containers
// bind the host's /dev/shm, as containerd gives them.
func (s *Sandbox) makeShm() error {
	if s.cfg.HostIPC {
		return nil
	}
	p := shmDir(s.dir)
	if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	data := "mode=1777,size=" + strconv.Itoa(PodShmSize)
	if err := unix.Mount("shm", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: p, Err: err}
	}
	return nil
}

// podShmSource is the host directory bound at a container's /dev/shm.
func podShmSource(sbDir string, hostIPC bool) string {
	if hostIPC {
		return "/dev/shm"
	}
	return shmDir(sbDir)
}

// unmountPodMounts detaches the pod's shm tmpfs and any staging mount a
// container create left under <dir>/mounts (a crash between the mount and
// its release); idempotent, like unmountVolumes.
func unmountPodMounts(dir string) error {
	var errs []error
	errs = append(errs, unmountAll(shmDir(dir)))
	ents, err := os.ReadDir(filepath.Join(dir, "mounts"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range ents {
		errs = append(errs, unmountStage(filepath.Join(dir, "mounts", e.Name())))
	}
	return errors.Join(errs...)
}

// unmountAll detaches every mount stacked on p (none is fine).
func unmountAll(p string) error {
	for {
		err := unix.Unmount(p, unix.MNT_DETACH)
		if err == nil {
			continue
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &os.PathError{Op: "umount", Path: p, Err: err}
	}
}

// podMounts returns the mounts podkit adds to every container: the pod's
// /dev/shm (replacing the private one of baseMounts) and the container's
// own cgroup at /sys/fs/cgroup, read-only.
//
// On cgroup v1 that is libcontainer's (runc's) "cgroup" mount: a tmpfs
// with a bind of the container's directory of each hierarchy. On v2 it is
// a read-only bind of the container's directory of the unified hierarchy
// (cgroupsPath), not a cgroup2 mount in a cgroup namespace of its own as
// runc makes: an Exec must see the namespaces its init sees, and nsjoin
// forks it into the container's cgroup with CLONE_INTO_CGROUP, which the
// kernel refuses (ENOENT) from inside a cgroup namespace whose root is
// below the forking process's cgroup. Runtimes reading their limits (the
// JVM, Go, nginx) find /sys/fs/cgroup/memory.max etc. all the same: they
// map /proc/self/cgroup through the mount's root in mountinfo.
func podMounts(mounts []specs.Mount, sbDir, cgroupsPath string, hostIPC bool) []specs.Mount {
	out := make([]specs.Mount, 0, len(mounts)+1)
	for _, m := range mounts {
		if m.Destination == "/dev/shm" {
			m = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: podShmSource(sbDir, hostIPC),
				Options: []string{"rbind", "rprivate", "nosuid", "nodev", "noexec"}}
		}
		out = append(out, m)
		if m.Destination == "/sys" {
			out = append(out, cgroupMount(cgroupsPath))
		}
	}
	return out
}

// cgroupMount is the container's /sys/fs/cgroup (see podMounts).
func cgroupMount(cgroupsPath string) specs.Mount {
	opts := []string{"nosuid", "noexec", "nodev", "relatime", "ro"}
	if cgroups.IsCgroup2UnifiedMode() {
		return specs.Mount{Destination: "/sys/fs/cgroup", Type: "bind",
			Source:  filepath.Join("/sys/fs/cgroup", cgroupsPath),
			Options: append([]string{"rbind", "rprivate"}, opts...)}
	}
	return specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: opts}
}
