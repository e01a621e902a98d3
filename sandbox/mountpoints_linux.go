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

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mount points anywhere.
//
// libcontainer (like runc) creates a missing mount point itself, with
// mkdir in the container's view before it remounts anything read-only: in
// a writable rootfs that is the container's own directory, and fine. Two
// places must not be written: a read-only rootfs (ReadOnlyRootfs: it may
// be a directory of the host or of the caller, such as podrun's host-root
// skeleton or an image directory) and a read-only bind mount of a host
// directory (podrun's `image: host` binds /usr, /etc, ... of the host:
// libcontainer's mkdir there fails with EROFS, and without "ro" it would
// write to the host).
//
// For those, podkit adds read-only overlays (no upper directory, so
// nothing can be written through them): its own skeleton directory holding
// just the missing mount points, as the top layer, over the original
// directory. On a read-only rootfs the overlay of the whole root is
// mounted on the host side (stage/root) and becomes the container's root;
// inside a read-only bind it is an OCI "overlay" mount over the deepest
// directory that exists, inserted right after that bind, so the rest of
// the bound directory stays as it is. Known limit of overlayfs: mounts
// below the overlaid host directory (not below the mount point) are not
// seen through it.

// addMountPoints finds the mount points of mounts (the spec's, in order)
// that are missing under a read-only layer, and plans their overlays.
func (p *mountPlan) addMountPoints(mounts []specs.Mount, rootfs string, roRoot bool) error {
	byDir := map[string]int{} // container dir overlaid -> index in p.extra
	for j, m := range mounts {
		dest := path.Clean(m.Destination)
		cov := covering(mounts[:j], dest)
		base, rel, ro := rootfs, dest, roRoot
		if cov >= 0 {
			c := mounts[cov]
			if c.Type != "bind" && !slices.Contains(c.Options, "bind") && !slices.Contains(c.Options, "rbind") {
				continue // tmpfs, proc, sysfs, ...: libcontainer's to handle
			}
			base, rel, ro = c.Source, strings.TrimPrefix(dest, path.Clean(c.Destination)), slices.Contains(c.Options, "ro")
		}
		if !ro || rel == "" || rel == "/" {
			continue
		}
		host, err := securejoin.SecureJoin(base, rel)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(host); err == nil {
			continue
		}
		rel, _ = filepath.Rel(base, host) // symlinks resolved within base
		file := isFileMount(m)
		if cov < 0 { // the read-only rootfs
			if err := mkSkeleton(filepath.Join(p.stage, "rootskel"), rel, file); err != nil {
				return err
			}
			p.rootfs = filepath.Join(p.stage, "root")
			continue
		}
		anc := existingAncestor(base, rel)
		dir := path.Join(path.Clean(mounts[cov].Destination), anc)
		k, ok := byDir[dir]
		if !ok {
			k = len(p.extra)
			byDir[dir] = k
			skel := filepath.Join(p.stage, "ov", itoa(k))
			if err := os.MkdirAll(skel, 0o755); err != nil {
				return err
			}
			data, err := lowerdirs(skel, filepath.Join(base, anc))
			if err != nil {
				return err
			}
			p.extra = append(p.extra, overlayMount{after: cov, m: specs.Mount{Destination: dir, Type: "overlay",
				Source: "overlay", Options: []string{"ro", "nosuid", "nodev", data}}})
		}
		sub, _ := filepath.Rel(anc, rel)
		if err := mkSkeleton(filepath.Join(p.stage, "ov", itoa(k)), sub, file); err != nil {
			return err
		}
	}
	if p.rootfs != "" {
		return p.mountRoot(rootfs)
	}
	return nil
}

// mountRoot mounts the read-only overlay of the skeleton over rootfs at
// stage/root, private, to be detached by release.
func (p *mountPlan) mountRoot(rootfs string) error {
	if err := os.Mkdir(p.rootfs, 0o755); err != nil {
		return err
	}
	data, err := lowerdirs(filepath.Join(p.stage, "rootskel"), rootfs)
	if err != nil {
		return err
	}
	if err := unix.Mount("overlay", p.rootfs, "overlay", unix.MS_RDONLY, data); err != nil {
		return &os.PathError{Op: "mount overlay", Path: p.rootfs, Err: err}
	}
	p.staged = append(p.staged, p.rootfs)
	if err := unix.Mount("", p.rootfs, "", unix.MS_PRIVATE, ""); err != nil {
		return &os.PathError{Op: "make private", Path: p.rootfs, Err: err}
	}
	return nil
}

// covering is the index of the last mount in earlier whose destination
// contains dest (strictly), or -1 (the rootfs).
func covering(earlier []specs.Mount, dest string) int {
	best, depth := -1, -1
	for i, m := range earlier {
		d := path.Clean(m.Destination)
		if d != "/" && !strings.HasPrefix(dest, d+"/") {
			continue
		}
		if n := len(d); n >= depth {
			best, depth = i, n
		}
	}
	return best
}

// isFileMount: a bind of a file needs a file as its mount point.
func isFileMount(m specs.Mount) bool {
	if m.Type != "bind" {
		return false
	}
	st, err := os.Stat(m.Source)
	return err == nil && !st.IsDir()
}

// existingAncestor is the deepest directory of rel that exists under base
// ("." for base itself).
func existingAncestor(base, rel string) string {
	for a := filepath.Dir(rel); ; a = filepath.Dir(a) {
		if st, err := os.Stat(filepath.Join(base, a)); (err == nil && st.IsDir()) || a == "." || a == "/" {
			return a
		}
	}
}

// mkSkeleton creates rel under skel: its parents as directories, rel
// itself as an empty file or a directory.
func mkSkeleton(skel, rel string, file bool) error {
	p := filepath.Join(skel, rel)
	if !file {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// errOverlayPath: a directory overlayfs options cannot name.
var errOverlayPath = errors.New("path unusable in overlay options")

// lowerdirs is the overlay option with top above lower.
func lowerdirs(top, lower string) (string, error) {
	for _, d := range []string{top, lower} {
		if strings.ContainsAny(d, ":,\\") {
			return "", fmt.Errorf("%w: %q", errOverlayPath, d)
		}
	}
	return "lowerdir=" + top + ":" + lower, nil
}
