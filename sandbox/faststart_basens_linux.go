//go:build linux

package sandbox

// The fast path's container mount namespaces start from a small base
// namespace rather than from the manager's. unshare(CLONE_NEWNS) copies
// every mount of the caller's namespace: on a host whose table grows with
// every pod (each adds its namespace pins) that copy was most of a late
// container create. The base holds one mount, an empty read-only tmpfs
// with the directory baseRootDir; the rootfs and every host path a
// container binds are cloned from the manager's namespace first
// (open_tree(2)) and moved in. The rootfs ends on top of that tmpfs
// (enterRoot), which stays beneath it: its being empty is what a process
// that climbs out of its root finds.
// The base lives as long as the manager (a descriptor, nothing on the
// host); a new manager makes its own.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// baseRootDir is where a container's rootfs is attached in its copy of
// the base namespace before it is moved onto the namespace's root.
const baseRootDir = "/r"

var (
	baseOnce sync.Once
	baseNS   *nsjoin.Handle
	baseErr  error
)

// Preload makes the package's process-wide state now rather than at the
// first create: the fast start path's base mount namespace (a descriptor
// and an empty tmpfs, kept for the manager's life; making it copies the
// manager's mount table once), the epoll instance every process exit
// is awaited on (a descriptor and a goroutine), and, on a goroutine of
// its own, encoding/json's encoders of the state file; and the map of
// cgroup v1 hierarchies each exec looks its container's cgroups up in
// (read from the mount table once: a manager whose first exec came after
// 1,000 pods' pins were mounted spent tens of milliseconds on it). A
// long-lived manager calls it at start so that its first create and exec
// are not the slow ones. An error means the fast path cannot build
// containers here; creates fail with it too.
func Preload() error {
	warmStateEncoder()
	_, _ = v1Mounts() // an error is the first exec's to report
	if err := exitWaits.start(); err != nil {
		return err
	}
	_, err := baseMountNS()
	return err
}

// baseMountNS returns the base namespace, made on first use.
func baseMountNS() (*nsjoin.Handle, error) {
	baseOnce.Do(func() {
		ch := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the runtime ends the thread
			var err error
			baseNS, err = makeBaseNS()
			ch <- err
		}()
		if baseErr = <-ch; baseErr != nil {
			baseErr = fmt.Errorf("%w: base mount namespace: %w", ErrRootfs, baseErr)
		}
	})
	return baseNS, baseErr
}

// makeBaseNS runs on a throwaway locked thread: a private copy of the
// manager's namespace whose root becomes a fresh tmpfs, the old root
// detached.
func makeBaseNS() (_ *nsjoin.Handle, retErr error) {
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return nil, os.NewSyscallError("unshare", err)
	}
	h, err := nsjoin.Current(nsjoin.Mount)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			h.Close()
		}
	}()
	if err := mountErr("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return nil, err
	}
	mfd, err := newMount("tmpfs", unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, func(fd int) error {
		for k, v := range map[string]string{"mode": "755", "size": "4k", "nr_inodes": "8"} {
			if err := unix.FsconfigSetString(fd, k, v); err != nil {
				return os.NewSyscallError("fsconfig "+k, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer unix.Close(mfd)
	if err := unix.Mkdirat(mfd, strings.TrimPrefix(baseRootDir, "/"), 0o755); err != nil {
		return nil, os.NewSyscallError("mkdir "+baseRootDir, err)
	}
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, "/", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return nil, os.NewSyscallError("move_mount /", err)
	}
	if err := unix.Fchdir(mfd); err != nil {
		return nil, os.NewSyscallError("fchdir", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return nil, os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return nil, os.NewSyscallError("umount old root", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, os.NewSyscallError("chdir", err)
	}
	if err := mountErr("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, err
	}
	return h, nil
}

// hostTrees are what a container's namespace needs from the manager's,
// opened there before the build thread enters its copy of the base:
// detached clones of the rootfs and of each bind source, the PID
// namespace for a shared /proc, and the manager's /proc (to open the new
// namespace, which has none).
type hostTrees struct {
	rootfs int
	binds  map[treeKey]int
	pidns  int
	proc   int
	kcore  bool // /dev/core links to /proc/kcore where the host has one
}

type treeKey struct {
	path string
	rec  bool
}

// openHostTrees clones what p mounts from the manager's namespace.
func (p *rootPlan) openHostTrees() (_ *hostTrees, retErr error) {
	t := &hostTrees{rootfs: -1, pidns: -1, proc: -1, binds: map[treeKey]int{}}
	defer func() {
		if retErr != nil {
			t.close()
		}
	}()
	var err error
	if t.proc, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc", Err: err}
	}
	_, err = os.Stat("/proc/kcore")
	t.kcore = err == nil
	if t.rootfs, err = cloneTree(p.rootfs, true); err != nil {
		return nil, fmt.Errorf("%w: rootfs: %w", ErrRootfs, err)
	}
	for _, m := range p.cfg.Mounts { // the cgroup mount's: pendingCgroups
		k := treeKey{m.Source, m.Flags&unix.MS_REC != 0}
		if _, ok := t.binds[k]; ok || m.Device != "bind" || m == p.cgroupMount {
			continue
		}
		fd, err := cloneTree(k.path, k.rec)
		if err != nil {
			return nil, fmt.Errorf("%w: mount %s (%s): %w", ErrRootfs, m.Destination, m.Device, err)
		}
		t.binds[k] = fd
	}
	if !p.procLater() {
		if t.pidns, err = unix.Open(p.pidns, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return nil, &os.PathError{Op: "open", Path: p.pidns, Err: err}
		}
	}
	return t, nil
}

// cloneTree is a detached bind of path (with its submounts when rec).
// Nothing can be mounted beneath a file, so a file is cloned alone: the
// recursive clone checks every mount on the source's mount, and the
// files a pod's containers bind (hosts, hostname, resolv.conf) sit on a
// run directory that holds two mounts per pod.
func cloneTree(path string, rec bool) (int, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	var st unix.Stat_t
	if rec && (unix.Stat(path, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, uint(flags))
	if err != nil {
		return -1, &os.PathError{Op: "open_tree", Path: path, Err: err}
	}
	return fd, nil
}

func (t *hostTrees) close() {
	for _, fd := range []int{t.rootfs, t.pidns, t.proc} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	for _, fd := range t.binds {
		unix.Close(fd)
	}
}

// attach moves the clone of (src, rec) onto dest (moveIn) and gives it
// the root's propagation (a clone of a shared mount starts as its peer;
// the host must not see the container's mounts).
func (p *rootPlan) attach(src string, rec bool, dest string) error {
	if err := p.moveIn(src, rec, dest); err != nil {
		return err
	}
	return mountErr("", dest, "", uintptr(p.rootPropagation()), "")
}

// moveIn moves the clone of (src, rec) onto dest, creating dest as a
// directory or an empty file like what it binds.
func (p *rootPlan) moveIn(src string, rec bool, dest string) error {
	fd, ok := p.trees.binds[treeKey{src, rec}]
	if !ok {
		return fmt.Errorf("%s: not cloned from the host", src)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: src, Err: err}
	}
	if err := mountpointFor(st.Mode&unix.S_IFMT == unix.S_IFDIR, dest); err != nil {
		return err
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dest, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: dest, Err: err}
	}
	return nil
}

func (p *rootPlan) rootPropagation() int {
	if p.cfg.RootPropagation != 0 {
		return p.cfg.RootPropagation
	}
	return unix.MS_SLAVE | unix.MS_REC
}

// cgroupV1Dirs are a container's v1 cgroup directories (paths, by
// controller) by hierarchy mount point name (cpu,cpuacct), for a v1
// "cgroup" mount.
func cgroupV1Dirs(paths map[string]string) map[string]string {
	hierarchies := map[string]string{}
	for ctrl, dir := range paths {
		rel, err := filepath.Rel("/sys/fs/cgroup", dir)
		if ctrl == "" || err != nil || strings.HasPrefix(rel, "..") {
			continue // the unified (v2) directory of a hybrid host, or not under /sys/fs/cgroup
		}
		name, _, _ := strings.Cut(rel, "/")
		hierarchies[name] = dir
	}
	return hierarchies
}

// enterBase moves the calling thread (fs unshared) into a new copy of the
// base namespace and returns a handle on it.
func enterBase(t *hostTrees) (*nsjoin.Handle, error) {
	base, err := baseMountNS()
	if err != nil {
		return nil, err
	}
	if err := unix.Setns(base.Fd(), unix.CLONE_NEWNS); err != nil {
		return nil, os.NewSyscallError("setns base mount namespace", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return nil, os.NewSyscallError("unshare", err)
	}
	fd, err := unix.Openat(t.proc, "thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/thread-self/ns/mnt", Err: err}
	}
	return nsjoin.FromFd(fd, nsjoin.Mount)
}
