//go:build linux

package imagestore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// GCResult says what GC removed.
type GCResult struct {
	Blobs  int // manifests, configs and compressed layers
	Layers int // unpacked layer directories
	Temp   int // leftovers of interrupted pulls, loads and mounts
}

// GC removes blobs no image references, unpacked layers no image or rootfs
// references, and everything under tmp/. It waits for pulls, loads and
// rootfs creation in every process to finish, and they wait for it.
func (s *Store) GC() (GCResult, error) {
	var res GCResult
	unuse, err := s.UseLock(true)
	if err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	defer unuse()
	recs, err := s.records()
	if err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	blobs, layers := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		blobs[r.ID], blobs[r.Manifest] = true, true
		for _, l := range r.Layers {
			blobs[l.Digest], layers[l.DiffID] = true, true
		}
	}
	rfs, err := s.rootfsRecords(&res)
	if err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	for _, r := range rfs {
		for _, l := range r.Layers {
			layers[l] = true
		}
	}
	if res.Blobs, err = sweep(filepath.Join(s.root, "blobs", "sha256"), blobs); err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	if res.Layers, err = sweep(filepath.Join(s.root, "layers", "sha256"), layers); err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	n, err := sweep(filepath.Join(s.root, "tmp"), nil)
	res.Temp += n
	if err != nil {
		return res, &Error{Op: "gc", Err: err}
	}
	return res, nil
}

// rootfsRecords lists rootfs records, removing directories a crash left
// without one (nothing is mounted there: the record precedes the mount).
func (s *Store) rootfsRecords(res *GCResult) ([]*Rootfs, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "rootfs"))
	if err != nil {
		return nil, err
	}
	var out []*Rootfs
	for _, e := range ents {
		r, err := s.Rootfs(e.Name())
		if err == nil {
			out = append(out, r)
			continue
		}
		if _, serr := os.Stat(filepath.Join(s.rootfsDir(e.Name()), "rootfs.json")); os.IsNotExist(serr) {
			if err := os.RemoveAll(s.rootfsDir(e.Name())); err != nil {
				return nil, err
			}
			res.Temp++
			continue
		}
		return nil, err
	}
	return out, nil
}

// sweep removes the entries of dir whose sha256:<name> is not in keep.
func sweep(dir string, keep map[string]bool) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if keep["sha256:"+strings.TrimSuffix(e.Name(), ".json")] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Usage is the disk use of a store's images (blobs, unpacked layers and
// records; not containers' upper dirs), as the CRI's ImageFsInfo reports it.
type Usage struct {
	Root   string // the store directory
	Bytes  uint64 // allocated bytes
	Inodes uint64
}

// Usage walks the store and adds up its images' disk use.
func (s *Store) Usage() (Usage, error) {
	u := Usage{Root: s.root}
	for _, d := range []string{"blobs", "layers", "images"} {
		err := filepath.WalkDir(filepath.Join(s.root, d), func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			if err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return nil
			}
			u.Bytes += uint64(st.Blocks) * 512
			u.Inodes++
			return nil
		})
		if err != nil {
			return u, &Error{Op: "usage", Ref: s.root, Err: err}
		}
	}
	return u, nil
}
