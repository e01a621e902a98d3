//go:build linux

package sandbox

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// FSGroupChangePolicy says when a volume's ownership is changed to its
// FSGroup (Kubernetes' fsGroupChangePolicy).
type FSGroupChangePolicy string

const (
	// FSGroupAlways (also the zero value) changes every file of the
	// volume each time the pod is created.
	FSGroupAlways FSGroupChangePolicy = "Always"
	// FSGroupOnRootMismatch walks the volume only when its root does not
	// have the group and permissions already.
	FSGroupOnRootMismatch FSGroupChangePolicy = "OnRootMismatch"
)

func (p FSGroupChangePolicy) valid() bool {
	return p == "" || p == FSGroupAlways || p == FSGroupOnRootMismatch
}

// applyFSGroup gives a freshly made volume its FSGroup, if any.
func (v Volume) applyFSGroup(dir string) error {
	if v.FSGroup == nil {
		return nil
	}
	return SetVolumeOwnership(dir, *v.FSGroup, v.FSGroupChangePolicy)
}

// SetVolumeOwnership applies Kubernetes' fsGroup to the tree at dir, as
// kubelet does for emptyDir, configMap, secret and downward API volumes:
// every file and directory gets group gid and group read-write (plus
// search and setgid on directories, so new files inherit the group);
// symlinks get the group only. With FSGroupOnRootMismatch nothing is done
// when dir already has the group, group rw and setgid. An embedder that
// fills a volume after Create calls it again.
func SetVolumeOwnership(dir string, gid uint32, policy FSGroupChangePolicy) error {
	if !policy.valid() {
		return fmt.Errorf("%w: fsGroupChangePolicy %q", ErrInvalidConfig, policy)
	}
	if policy == FSGroupOnRootMismatch && !ownershipMismatch(dir, gid) {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := st.Mode() | 0o660
		if st.IsDir() {
			mode |= 0o110 | fs.ModeSetgid
		}
		return os.Chmod(p, mode&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky|fs.ModeSetuid))
	})
}

// ownershipMismatch reports whether dir lacks the fsGroup settings.
func ownershipMismatch(dir string, gid uint32) bool {
	st, err := os.Stat(dir)
	if err != nil {
		return true
	}
	g := statGid(st)
	return g != gid || st.Mode()&0o660 != 0o660 || (st.IsDir() && st.Mode()&fs.ModeSetgid == 0)
}

// statGid is the group of st (none: the largest gid).
func statGid(st fs.FileInfo) uint32 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Gid
	}
	return ^uint32(0)
}
