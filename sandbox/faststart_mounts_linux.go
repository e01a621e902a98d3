//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// rootPlan is what startBuildRoot needs: the libcontainer config (the same
// document the reference path gets), the namespaces the mounts must be
// made in, and where /proc's PID namespace comes from.
type rootPlan struct {
	cfg    *configs.Config
	joins  map[int]string // CLONE_NEW* -> pinned namespace path (net, ipc, uts)
	pidns  string         // shared PID namespace pin; "" = the init's own
	cwd    string         // created when missing, as runc does
	rootfs string
	// cgroups are the container's cgroups, being made meanwhile;
	// cgroupMount (isCgroupMount; nil: none) waits for them.
	cgroups     *pendingCgroups
	cgroupMount *configs.Mount
	trees       *hostTrees // while building: what comes from the host
}

// independent says whether m can be mounted after the mounts that follow
// it and after /dev's setup: no destination of theirs is above or below
// its own, and it is not under /dev.
func independent(m *configs.Mount, after []*configs.Mount) bool {
	under := func(a, b string) bool { return a == b || strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") }
	dest := path.Clean(m.Destination)
	if under(dest, "/dev") {
		return false
	}
	for _, o := range after {
		if d := path.Clean(o.Destination); under(d, dest) || under(dest, d) {
			return false
		}
	}
	return true
}

// procLater says whether /proc (and the masks under it) wait for the
// init: a /proc of the container's own PID namespace can only be made
// once that namespace's first process exists.
func (p *rootPlan) procLater() bool { return p.pidns == "" }

// startBuildRoot starts making the container's mount namespace on a
// throwaway locked thread; wait returns a handle on it: the rootfs with
// every mount of the config, /dev's nodes and links, the root entered, masked
// and read-only paths, read-only root. Nothing runs in the namespace: it
// lives as long as the handle (and later the init) keeps it, so an error
// or a Close leaves nothing behind.
func startBuildRoot(p *rootPlan) (wait func() (*nsjoin.Handle, error)) {
	type result struct {
		h   *nsjoin.Handle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread
		h, err := p.build()
		ch <- result{h, err}
	}()
	return func() (*nsjoin.Handle, error) {
		r := <-ch
		return r.h, r.err
	}
}

func (p *rootPlan) build() (_ *nsjoin.Handle, retErr error) {
	trees, err := p.openHostTrees()
	if err != nil {
		return nil, err
	}
	defer trees.close()
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return nil, os.NewSyscallError("unshare", err)
	}
	for flag, pin := range p.joins {
		if err := setnsPath(pin, flag); err != nil {
			return nil, err
		}
	}
	h, err := enterBase(trees)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			h.Close()
		}
	}()
	// From here on paths are the new namespace's: the rootfs is at
	// baseRootDir, and host paths are reached through trees only.
	in := *p
	in.rootfs, in.trees = baseRootDir, trees
	if err := unix.MoveMount(trees.rootfs, "", unix.AT_FDCWD, in.rootfs, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return nil, &os.PathError{Op: "move_mount", Path: in.rootfs, Err: err}
	}
	if err := mountErr("", in.rootfs, "", uintptr(p.rootPropagation()), ""); err != nil {
		return nil, err
	}
	if err := in.fill(); err != nil {
		return nil, err
	}
	return h, nil
}

// fill makes the container's mounts under the attached rootfs, enters
// it and applies masks and read-only paths.
func (p *rootPlan) fill() error {
	var later []*configs.Mount      // read-only tmpfs, made read-only last
	var cgroupLast []*configs.Mount // made after /dev: they wait for the cgroups
	for i, m := range p.cfg.Mounts {
		if m == p.cgroupMount && independent(m, p.cfg.Mounts[i+1:]) {
			cgroupLast = append(cgroupLast, m)
			continue
		}
		if err := p.mount(m); err != nil {
			return fmt.Errorf("%w: mount %s (%s): %w", ErrRootfs, m.Destination, m.Device, err)
		}
		if m.Device == "tmpfs" && m.Flags&unix.MS_RDONLY != 0 {
			later = append(later, m)
		}
	}
	if needsDevSetup(p.cfg) {
		if err := p.setupDev(); err != nil {
			return fmt.Errorf("%w: /dev: %w", ErrRootfs, err)
		}
	}
	for _, m := range cgroupLast {
		if err := p.mount(m); err != nil {
			return fmt.Errorf("%w: mount %s (%s): %w", ErrRootfs, m.Destination, m.Device, err)
		}
	}
	if err := enterRoot(p.rootfs); err != nil {
		return err
	}
	if err := os.MkdirAll(p.cwd, 0o755); err != nil {
		return fmt.Errorf("%w: cwd: %w", ErrInvalidConfig, err)
	}
	if err := applyMasks(p.cfg, false); err != nil {
		return err
	}
	if !p.procLater() {
		if err := applyMasks(p.cfg, true); err != nil {
			return err
		}
	}
	for _, m := range later {
		if err := mountErr("", m.Destination, "", uintptr(m.Flags|unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY), ""); err != nil {
			return err
		}
	}
	if p.cfg.Readonlyfs {
		if err := remountRO("/"); err != nil {
			return err
		}
	}
	return nil
}

func setnsPath(pin string, flag int) error {
	fd, err := unix.Open(pin, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: pin, Err: err}
	}
	defer unix.Close(fd)
	return os.NewSyscallError("setns "+pin, unix.Setns(fd, flag))
}

// mount makes one mount of the config under the rootfs (still the host's
// view: the thread has not entered it yet).
func (p *rootPlan) mount(m *configs.Mount) error {
	dest, err := securejoin.SecureJoin(p.rootfs, m.Destination)
	if err != nil {
		return err
	}
	switch m.Device {
	case "bind":
		if m == p.cgroupMount { // v2: cloned once the cgroups exist
			if _, err := p.cgroups.paths(); err != nil {
				return err
			}
			p.cgroups.takeTrees(p.trees.binds)
		}
		if err := p.attach(m.Source, m.Flags&unix.MS_REC != 0, dest); err != nil {
			return err
		}
		// As runc: a remount applies the options the bind did not.
		if m.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || m.ClearedFlags != 0 {
			if err := mountErr("", dest, "", uintptr(m.Flags|unix.MS_BIND|unix.MS_REMOUNT), ""); err != nil {
				return err
			}
		}
	case "cgroup":
		return p.mountCgroupV1(dest, m)
	case "proc":
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return err
		}
		if p.procLater() {
			return nil // at the init's exec stop (procMounter)
		}
		return mountProc(dest, p.trees.pidns, m)
	default: // tmpfs, devpts, mqueue, sysfs (fastReason refuses others)
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return err
		}
		flags := m.Flags
		if m.Device == "tmpfs" {
			flags &^= unix.MS_RDONLY // made read-only after /dev is set up
		}
		if err := mountErr(m.Source, dest, m.Device, uintptr(flags), m.Data); err != nil {
			return err
		}
	}
	for _, pf := range m.PropagationFlags {
		if err := mountErr("", dest, "", uintptr(pf), ""); err != nil {
			return err
		}
	}
	return nil
}

// mountCgroupV1 makes a v1 "cgroup" mount as libcontainer does: a tmpfs
// at dest holding, for each v1 hierarchy, a bind of the container's own
// directory there, named as the hierarchy's mount point (symlinks for the
// controllers mounted together, as cpu -> cpu,cpuacct), each with the
// mount's flags (read-only).
func (p *rootPlan) mountCgroupV1(dest string, m *configs.Mount) error {
	paths, err := p.cgroups.paths()
	if err != nil {
		return err
	}
	p.cgroups.takeTrees(p.trees.binds)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	base := unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	if err := mountErr("tmpfs", dest, "tmpfs", uintptr(base), "mode=755"); err != nil {
		return err
	}
	for name, dir := range cgroupV1Dirs(paths) {
		// The clone has the mount's flags and the root's propagation
		// already (pendingCgroups): it is only moved in.
		target := filepath.Join(dest, name)
		if err := p.moveIn(dir, true, target); err != nil {
			return err
		}
		for _, ctrl := range strings.Split(name, ",") {
			if ctrl != name {
				if err := os.Symlink(name, filepath.Join(dest, ctrl)); err != nil {
					return err
				}
			}
		}
	}
	return nil // the tmpfs itself stays writable, as libcontainer leaves it
}

// mountpointFor creates the mount point of a bind: a directory for a
// directory, an empty file for anything else.
func mountpointFor(dir bool, dest string) error {
	if dir {
		return os.MkdirAll(dest, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) || errors.Is(err, unix.EISDIR) {
			return nil
		}
		return err
	}
	return f.Close()
}

// enterRoot makes rootfs (a mount at the top of the thread's copy of the
// base namespace) the thread's root without pivot_root(2), which walks
// every task on the host to re-root those in the namespace
// (chroot_fs_refs: +0.5 ms a create with 1,000 pods alive) when this new
// namespace holds the thread alone. The rootfs is moved onto the
// namespace's root, the base's empty read-only tmpfs, and the thread
// chroots into it:
//   - the rootfs is then the top of the namespace's root, so setns(2)
//     into the namespace lands in it (the kernel follows mounts down
//     from the root), and the process is not "chrooted" for the kernel
//     (it may still create user namespaces);
//   - a process that climbs out of its root (CAP_SYS_CHROOT and a second
//     chroot) finds that empty tmpfs, not the host's tree: runc's
//     no-pivot mode leaves the host's root beneath, this does not.
func enterRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return os.NewSyscallError("chdir", err)
	}
	if err := mountErr(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	if err := unix.Chroot("."); err != nil {
		return os.NewSyscallError("chroot", err)
	}
	return os.NewSyscallError("chdir", unix.Chdir("/"))
}

// applyMasks masks (MaskPaths) and makes read-only (ReadonlyPaths) the
// config's paths, in the container's root: those under /proc only (proc
// true) or all others (proc false).
func applyMasks(cfg *configs.Config, proc bool) error {
	pick := func(p string) bool {
		return (p == "/proc" || strings.HasPrefix(p, "/proc/")) == proc
	}
	for _, p := range cfg.ReadonlyPaths {
		if pick(p) {
			if err := readonlyPath(p); err != nil {
				return fmt.Errorf("%w: readonly path %s: %w", ErrRootfs, p, err)
			}
		}
	}
	for _, p := range cfg.MaskPaths {
		if pick(p) {
			if err := maskPath(p); err != nil {
				return fmt.Errorf("%w: masked path %s: %w", ErrRootfs, p, err)
			}
		}
	}
	return nil
}

func maskPath(p string) error {
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return mountErr("tmpfs", p, "tmpfs", unix.MS_RDONLY, "nr_blocks=1,nr_inodes=1")
	}
	return mountErr("/dev/null", p, "", unix.MS_BIND, "")
}

func readonlyPath(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &os.PathError{Op: "mount", Path: p, Err: err}
	}
	return remountRO(p)
}

// remountRO makes the mount at p read-only, keeping its nosuid, nodev
// and noexec.
func remountRO(p string) error {
	var s unix.Statfs_t
	if err := unix.Statfs(p, &s); err != nil {
		return &os.PathError{Op: "statfs", Path: p, Err: err}
	}
	keep := uintptr(s.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	return mountErr("", p, "", keep|unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
}

func mountErr(src, dest, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, dest, fstype, flags, data); err != nil {
		return &os.PathError{Op: "mount " + fstype + " 0x" + strconv.FormatUint(uint64(flags), 16), Path: dest, Err: err}
	}
	return nil
}
