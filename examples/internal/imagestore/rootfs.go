//go:build linux

package imagestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// Rootfs is a container's root filesystem: an overlayfs mount at Dir of
// the image's unpacked layers (read-only, shared) under a private upper
// directory that takes every write.
type Rootfs struct {
	ID     string   `json:"id"`
	Image  string   `json:"image"`  // image ID
	Layers []string `json:"layers"` // diff IDs, bottom first
	Dir    string   `json:"-"`      // the merged tree: the container's /
	Upper  string   `json:"-"`      // the container's own changes
}

// rootfsIDRule says what validRootfsID accepts. A function, not a regexp:
// `{0,127}` compiles into 127 copies, 0.4 ms of every podrun's start.
const rootfsIDRule = "1 to 128 of [A-Za-z0-9_.-], starting with a letter or digit"

func validRootfsID(id string) bool {
	if len(id) == 0 || len(id) > 128 || id[0] == '_' || id[0] == '.' || id[0] == '-' {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Store) rootfsDir(id string) string { return filepath.Join(s.root, "rootfs", id) }

func (s *Store) fillRootfs(r *Rootfs) *Rootfs {
	r.Dir = filepath.Join(s.rootfsDir(r.ID), "merged")
	r.Upper = filepath.Join(s.rootfsDir(r.ID), "upper")
	return r
}

// CreateRootfs mounts a new rootfs for container id from image ref (any
// name Status accepts). Its layers stay pinned against GC until
// RemoveRootfs, even if the image is removed.
func (s *Store) CreateRootfs(id, ref string) (*Rootfs, error) {
	if !validRootfsID(id) {
		return nil, &Error{Op: "mount", Ref: id, Err: fmt.Errorf("%w: id must be %s", ErrRootfs, rootfsIDRule)}
	}
	unuse, err := s.UseLock(false)
	if err != nil {
		return nil, &Error{Op: "mount", Ref: id, Err: err}
	}
	defer unuse()
	img, err := s.status("mount", ref)
	if err != nil {
		return nil, err
	}
	r := s.fillRootfs(&Rootfs{ID: id, Image: img.ID})
	for _, l := range img.Layers {
		if _, err := os.Stat(s.LayerPath(l.DiffID)); err != nil {
			return nil, &Error{Op: "mount", Ref: ref, Err: fmt.Errorf("%w: layer %s is not unpacked", ErrNotFound, l.DiffID)}
		}
		r.Layers = append(r.Layers, l.DiffID)
	}
	if err := s.mountRootfs(r); err != nil {
		return nil, &Error{Op: "mount", Ref: id, Err: err}
	}
	return r, nil
}

// mountRootfs makes rootfs/<id>/{rootfs.json,upper,work,merged} and mounts;
// on failure it removes what it made.
func (s *Store) mountRootfs(r *Rootfs) (err error) {
	dir := s.rootfsDir(r.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s exists", ErrRootfs, r.ID)
		}
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// The record comes first: from now on GC keeps the layers.
	if err := s.WriteFileAtomic(filepath.Join(dir, "rootfs.json"), data); err != nil {
		return err
	}
	lower := []string{filepath.Join(dir, "empty")} // overlayfs needs a lower dir even for no layers
	if len(r.Layers) > 0 {
		lower = nil
		for i := len(r.Layers) - 1; i >= 0; i-- {
			// A layer repeated lower down adds nothing its top copy does not
			// (and overlayfs may refuse the same lower dir twice).
			if p := s.LayerPath(r.Layers[i]); !slices.Contains(lower, p) {
				lower = append(lower, p)
			}
		}
	}
	for _, d := range []string{"upper", "work", "merged", "empty"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"),
		filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
	if len(opts) >= unix.Getpagesize() {
		return fmt.Errorf("%w: %d layers make overlay options longer than a page", ErrUnsupported, len(r.Layers))
	}
	return unix.Mount("overlay", r.Dir, "overlay", 0, opts)
}

// Rootfs returns the rootfs of container id, as recorded.
func (s *Store) Rootfs(id string) (*Rootfs, error) {
	if !validRootfsID(id) {
		return nil, &Error{Op: "rootfs", Ref: id, Err: fmt.Errorf("%w: bad id", ErrRootfs)}
	}
	data, err := os.ReadFile(filepath.Join(s.rootfsDir(id), "rootfs.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: no rootfs %s", ErrNotFound, id)
		}
		return nil, &Error{Op: "rootfs", Ref: id, Err: err}
	}
	r := new(Rootfs)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, &Error{Op: "rootfs", Ref: id, Err: err}
	}
	return s.fillRootfs(r), nil
}

// ListRootfs returns every recorded rootfs (for a runtime rebuilding its
// state after a restart).
func (s *Store) ListRootfs() ([]*Rootfs, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "rootfs"))
	if err != nil {
		return nil, &Error{Op: "rootfs", Err: err}
	}
	var out []*Rootfs
	for _, e := range ents {
		if r, err := s.Rootfs(e.Name()); err == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RemoveRootfs unmounts container id's rootfs and deletes its upper dir.
// Removing a rootfs that does not exist is not an error.
func (s *Store) RemoveRootfs(id string) error {
	if !validRootfsID(id) {
		return &Error{Op: "unmount", Ref: id, Err: fmt.Errorf("%w: bad id", ErrRootfs)}
	}
	dir := s.rootfsDir(id)
	merged := filepath.Join(dir, "merged")
	if err := unix.Unmount(merged, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		if !errors.Is(err, unix.EBUSY) {
			return &Error{Op: "unmount", Ref: id, Err: err}
		}
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			return &Error{Op: "unmount", Ref: id, Err: err}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return &Error{Op: "unmount", Ref: id, Err: err}
	}
	return nil
}

// MountPoint creates path (absolute, inside the container) as an empty
// directory, or as an empty file when dir is false, with any missing
// parents, and returns its host path under r.Dir. It writes only to the
// container's upper dir, never to the shared layers, and resolves symlinks
// inside the rootfs, so a volume can be mounted at any path.
func (r *Rootfs) MountPoint(path string, dir bool) (string, error) {
	if !filepath.IsAbs(path) {
		return "", &Error{Op: "mountpoint", Ref: path, Err: fmt.Errorf("%w: path must be absolute", ErrBadConfig)}
	}
	parent, base := filepath.Split(filepath.Clean(path))
	if dir {
		parent, base = filepath.Clean(path), ""
	}
	root, err := os.OpenFile(r.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &Error{Op: "mountpoint", Ref: path, Err: err}
	}
	defer root.Close()
	d, err := pathrs.MkdirAllHandle(root, parent, 0o755)
	if err != nil {
		return "", &Error{Op: "mountpoint", Ref: path, Err: err}
	}
	defer d.Close()
	if base != "" {
		fd, err := unix.Openat(int(d.Fd()), base, unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil && !errors.Is(err, unix.EISDIR) {
			return "", &Error{Op: "mountpoint", Ref: path, Err: err}
		}
		if err == nil {
			unix.Close(fd)
		}
	}
	host, err := securejoin.SecureJoin(r.Dir, path)
	if err != nil {
		return "", &Error{Op: "mountpoint", Ref: path, Err: err}
	}
	return host, nil
}
