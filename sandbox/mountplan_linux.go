//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountPlan is the host side of a container's mounts for one create. It
// lives under its stage directory <sandbox dir>/mounts/<container>:
//
//   - sub/<i>: Mounts[i]'s subPath, resolved beneath its volume and bound
//     here from the opened directory (kubelet's way: no path is resolved
//     twice, so a symlink swapped in later cannot redirect the mount);
//   - ov/<n>: skeletons of missing mount points, each the upper layer of
//     a read-only overlay mounted in the container over the deepest
//     existing directory of a read-only mount (mountpoints_linux.go);
//   - rootskel, root: the same for a read-only rootfs, whose overlay is
//     mounted here and becomes the container's root.
//
// The staged mounts (sub/*, root) are private, and only needed while
// libcontainer sets up the container's mount namespace: release detaches
// them once the init waits on its exec fifo. The skeletons stay until the
// next create of the container (or the sandbox's removal): overlays in the
// container's namespace use them.
type mountPlan struct {
	stage   string
	sources map[int]string // Mounts index -> staged subPath bind
	rootfs  string         // read-only overlay root replacing Rootfs, or ""
	extra   []overlayMount
	staged  []string // host mounts to detach once created
}

// overlayMount is a read-only overlay added to the OCI spec's mounts right
// after the mount at index after (the one it covers a part of).
type overlayMount struct {
	after int
	m     specs.Mount
}

// source is the host path bound for Mounts[i]: the staged subPath, else
// the volume or Source (a plan-less spec, as benchmarks build, joins a
// subPath lexically).
func (p *mountPlan) source(i int, m Mount, sbDir string) string {
	src := m.Source
	if m.Volume != "" {
		src = filepath.Join(sbDir, "volumes", m.Volume)
	}
	if p != nil && p.sources[i] != "" {
		return p.sources[i]
	}
	if m.SubPath != "" {
		src = filepath.Join(src, m.SubPath)
	}
	return src
}

// root is the container's root directory: the overlay when one was made.
func (p *mountPlan) root(rootfs string) string {
	if p != nil && p.rootfs != "" {
		return p.rootfs
	}
	return rootfs
}

// overlays returns mounts with the plan's overlays inserted, each right
// after the mount it covers, shallowest first.
func (p *mountPlan) overlays(mounts []specs.Mount) []specs.Mount {
	if p == nil || len(p.extra) == 0 {
		return mounts
	}
	out := make([]specs.Mount, 0, len(mounts)+len(p.extra))
	for i, m := range mounts {
		out = append(out, m)
		var here []specs.Mount
		for _, o := range p.extra {
			if o.after == i {
				here = append(here, o.m)
			}
		}
		slices.SortStableFunc(here, func(a, b specs.Mount) int {
			return strings.Count(a.Destination, "/") - strings.Count(b.Destination, "/")
		})
		out = append(out, here...)
	}
	return out
}

// ErrSubPath: a Mount.SubPath leads out of its volume (through ".." or a
// symlink) or cannot be made; it wraps ErrInvalidConfig in a *FieldError.
var ErrSubPath = errors.New("bad subPath")

// checkSubPath validates Mounts[i].SubPath lexically: relative, no "..",
// no NUL (Kubernetes' rules).
func checkSubPath(i int, sub string) error {
	if sub == "" {
		return nil
	}
	bad := func(reason string) error {
		return &FieldError{Field: fmt.Sprintf("Mounts[%d].SubPath", i), Value: fmt.Sprintf("%q", sub), Reason: reason,
			Err: fmt.Errorf("%w: %w", ErrInvalidConfig, ErrSubPath)}
	}
	switch {
	case strings.ContainsRune(sub, 0):
		return bad("contains NUL")
	case path.IsAbs(sub):
		return bad("must be a relative path")
	case slices.Contains(strings.Split(sub, "/"), ".."):
		return bad(`must not contain ".."`)
	}
	return nil
}

// prepareMounts builds s's mount plan (nothing at all for a container
// without subPaths or missing read-only mount points) and sets s.plan. On
// error nothing it made is left.
func (sb *Sandbox) prepareMounts(s *ContainerSpec) (retErr error) {
	p := &mountPlan{stage: filepath.Join(sb.dir, "mounts", s.Name), sources: map[int]string{}}
	if err := removeStage(p.stage); err != nil { // a previous run's
		return err
	}
	defer func() {
		if retErr != nil {
			p.release()
			_ = os.RemoveAll(p.stage)
			s.plan = nil
		}
	}()
	for i, m := range s.Mounts {
		if m.SubPath == "" {
			continue
		}
		base := p.source(i, Mount{Source: m.Source, Volume: m.Volume}, sb.dir)
		staged, err := p.stageSubPath(i, base, m.SubPath)
		if err != nil {
			return err
		}
		p.sources[i] = staged
	}
	s.plan = p
	spec := ociSpec(s, sb.dir, sb.pins, "") // the mounts, in order, as libcontainer gets them
	// The working directory too: libcontainer makes it if missing.
	points := append(spec.Mounts, specs.Mount{Destination: s.cwd(), Type: "cwd"})
	if err := p.addMountPoints(points, s.Rootfs, s.ReadOnlyRootfs); err != nil {
		return err
	}
	if p.rootfs == "" && len(p.extra) == 0 && len(p.sources) == 0 {
		s.plan = nil
	}
	return nil
}

// release detaches the staged host mounts (the container's namespace
// keeps its own copies).
func (p *mountPlan) release() {
	if p == nil {
		return
	}
	for _, m := range p.staged {
		_ = unmountAll(m)
	}
	p.staged = nil
}

// releaseAfter is release, deferred by a create whose error is *err: a
// failed create also removes the stage.
func (p *mountPlan) releaseAfter(err *error) {
	if p == nil {
		return
	}
	p.release()
	if *err != nil {
		_ = os.RemoveAll(p.stage)
	}
}

// removeStage detaches whatever a crashed create left staged in stage and
// removes it.
func removeStage(stage string) error {
	if err := unmountStage(stage); err != nil {
		return err
	}
	return os.RemoveAll(stage)
}

// unmountStage detaches stage/root and stage/sub/* (idempotent).
func unmountStage(stage string) error {
	errs := []error{unmountAll(filepath.Join(stage, "root"))}
	ents, err := os.ReadDir(filepath.Join(stage, "sub"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range ents {
		errs = append(errs, unmountAll(filepath.Join(stage, "sub", e.Name())))
	}
	return errors.Join(errs...)
}

// stageSubPath opens sub beneath base (openat2 RESOLVE_BENEATH: "..", an
// absolute symlink or one leading out of base fails), creating missing
// directories one by one (mkdirat, which never follows a symlink), and
// binds the opened file to stage/sub/<i> through /proc/self/fd.
func (p *mountPlan) stageSubPath(i int, base, sub string) (string, error) {
	field := fmt.Sprintf("Mounts[%d].SubPath", i)
	bad := func(reason string, err error) error {
		return &FieldError{Field: field, Value: fmt.Sprintf("%q", sub), Reason: reason + ": " + err.Error(),
			Err: fmt.Errorf("%w: %w", ErrInvalidConfig, ErrSubPath)}
	}
	root, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", bad("open volume "+base, err)
	}
	defer unix.Close(root)
	fd, err := openBeneath(root, sub)
	if errors.Is(err, unix.ENOENT) {
		fd, err = mkdirBeneath(root, sub)
	}
	if err != nil {
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP) {
			return "", bad("leads out of the volume", err)
		}
		return "", bad("resolve", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	target := filepath.Join(p.stage, "sub", itoa(i))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = os.Mkdir(target, 0o700)
	} else {
		err = os.WriteFile(target, nil, 0o600)
	}
	if err != nil {
		return "", err
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", unix.MS_BIND, ""); err != nil {
		return "", &os.PathError{Op: "bind subPath", Path: target, Err: err}
	}
	p.staged = append(p.staged, target)
	if err := unix.Mount("", target, "", unix.MS_PRIVATE, ""); err != nil {
		return "", &os.PathError{Op: "make private", Path: target, Err: err}
	}
	return target, nil
}

// openBeneath opens name beneath dirfd as an O_PATH file.
func openBeneath(dirfd int, name string) (int, error) {
	return unix.Openat2(dirfd, name, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS})
}

// mkdirBeneath creates the missing directories of sub beneath root with
// root's permissions (as kubelet; set regardless of the umask, so a
// world-writable or fsGroup setgid volume gives subPaths that its users
// can write) and opens the last one.
func mkdirBeneath(root int, sub string) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(root, &st); err != nil {
		return -1, err
	}
	mode := st.Mode & 0o7777
	cur, err := unix.Dup(root)
	if err != nil {
		return -1, err
	}
	for _, name := range strings.Split(path.Clean(sub), "/") {
		if name == "." || name == "" {
			continue
		}
		next, err := openBeneath(cur, name)
		if errors.Is(err, unix.ENOENT) {
			made := unix.Mkdirat(cur, name, 0o700)
			err = made
			if made == nil || errors.Is(made, unix.EEXIST) {
				next, err = openBeneath(cur, name)
			}
			if made == nil && err == nil { // chmod what was opened, not a name
				if err = unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", next), mode); err != nil {
					unix.Close(next)
				}
			}
		}
		unix.Close(cur)
		if err != nil {
			return -1, err
		}
		cur = next
	}
	return cur, nil
}
