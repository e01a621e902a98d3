//go:build linux

package cgroup

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// Cgroup is one cgroup: a pod, a container leaf or the pause leaf. It is
// implemented for cgroup v1 and v2; which one is used depends on the
// System it came from. A Cgroup is safe for concurrent use.
type Cgroup interface {
	// Path is the cgroup's path relative to the hierarchy root(s), e.g.
	// "/podkit/pod1/app". It is what a runtime needs as "cgroupsPath".
	Path() string
	// Paths maps each controller this cgroup was created with to its
	// absolute directory (v1), or "" to the single directory (v2) — the
	// convention of libcontainer's cgroup managers.
	Paths() map[string]string
	// AddProcess moves a process (all of its threads) into the cgroup.
	AddProcess(pid int) error
	// Procs lists the processes in the cgroup and its descendants.
	Procs() ([]int, error)
	// Update changes limits live. Nil groups stay as they are; a set group
	// replaces that group's settings (zero fields mean unlimited).
	Update(r *Resources) error
	// Stats reads usage, limits and event counters.
	Stats() (*Stats, error)
	// OOMKills reads only the OOM-kill counter (Stats.OOMKills): one
	// file, for callers that check it on every process exit. It fails
	// with ErrUnsupported when the cgroup has no memory controller.
	OOMKills() (uint64, error)
	// Freeze stops every process in the cgroup and waits until frozen.
	// A freeze can fail to complete (a task in an uninterruptible wait on
	// a frozen one, such as an execve waiting for its sibling threads to
	// die): when ctx ends first the cgroup is left freezing, and the
	// caller must Thaw it.
	Freeze(ctx context.Context) error
	// Thaw resumes a frozen cgroup.
	Thaw(ctx context.Context) error
	// KillAll SIGKILLs every process in the cgroup and its descendants,
	// including ones forked meanwhile, and waits until it is empty.
	KillAll(ctx context.Context) error
	// Delete removes the cgroup (and any sub-cgroups) in every hierarchy.
	// It retries EBUSY for a bounded time and is idempotent. The cgroup
	// must have no processes; call KillAll first.
	Delete(ctx context.Context) error

	// oom returns a source of OOM-kill notifications for the watcher.
	oom() (oomSource, error)
}

// DirOpener is implemented by cgroups that can hand out a directory file
// descriptor for clone3's CLONE_INTO_CGROUP (cgroup v2 only), so a process
// can be started directly inside the cgroup: set
// syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}.
type DirOpener interface {
	OpenDir() (*os.File, error)
}

// OpenDir returns a CLONE_INTO_CGROUP directory fd for c, or an error
// wrapping ErrUnsupported when c is a v1 cgroup.
func OpenDir(c Cgroup) (*os.File, error) {
	if d, ok := c.(DirOpener); ok {
		return d.OpenDir()
	}
	return nil, &Error{Op: "opendir", Path: c.Path(), Err: ErrUnsupported}
}

// System is the host's cgroup setup (or an explicitly given v2 mount).
// It creates and opens cgroups with the implementation the mode needs.
type System struct {
	l layout

	availOnce sync.Once // v2: the root's cgroup.controllers
	avail     map[string]bool
	availErr  error
}

// Host returns the System for this host. The mount layout is detected
// once per process.
func Host() (*System, error) {
	l, err := detect()
	if err != nil {
		return nil, err
	}
	if l.mode == ModeUnknown {
		return nil, &Error{Op: "detect", Path: "/proc/self/mountinfo", Err: ErrUnsupported}
	}
	return &System{l: l}, nil
}

// Unified returns a System that manages the cgroup v2 hierarchy mounted at
// mountpoint (for example a host's /sys/fs/cgroup/unified in hybrid mode),
// regardless of the host's mode.
func Unified(mountpoint string) (*System, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mountpoint, &st); err != nil {
		return nil, &Error{Op: "statfs", Path: mountpoint, Err: err}
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return nil, &Error{Op: "statfs", Path: mountpoint, Err: wrapBoth(ErrUnsupported, errors.New("not a cgroup2 mount"))}
	}
	return &System{l: layout{mode: ModeUnified, unified: mountpoint, roots: []string{mountpoint}}}, nil
}

// Mode reports the mode of the hierarchy this System manages.
func (s *System) Mode() Mode { return s.l.mode }

// Roots lists the mountpoint of every hierarchy this System manages (one
// for v2; each v1 controller mount plus named and unified ones otherwise).
func (s *System) Roots() []string { return slices.Clone(s.l.roots) }

func (s *System) v2() bool { return s.l.mode == ModeUnified }

// Create makes a new cgroup at path (relative to the hierarchy root) with
// the given resources. The parent directories are created if needed. It
// fails with ErrExist if the cgroup exists. On error nothing is left behind.
func (s *System) Create(path string, r *Resources) (Cgroup, error) {
	p, err := cleanPath("create", path)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if s.v2() {
		return s.createV2(p, r)
	}
	return s.createV1(p, r)
}

// Open returns an existing cgroup; ErrNotExist if it does not exist.
func (s *System) Open(path string) (Cgroup, error) {
	p, err := cleanPath("open", path)
	if err != nil {
		return nil, err
	}
	if s.v2() {
		return s.openV2(p)
	}
	return s.openV1(p)
}

// Remove deletes path and everything below it in every hierarchy of the
// System (v1 controllers, named v1 hierarchies, the v2 tree), with a
// bounded retry on EBUSY. A missing path is not an error.
func (s *System) Remove(ctx context.Context, path string) error {
	p, err := cleanPath("remove", path)
	if err != nil {
		return err
	}
	return s.removeAll(ctx, p)
}
