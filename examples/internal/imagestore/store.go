//go:build linux

package imagestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/internal/imageref"
	"golang.org/x/sys/unix"
)

// DefaultRoot is where the store lives unless Options.Root says otherwise.
const DefaultRoot = "/var/lib/podkit/images"

// Options configure a Store. The zero value is usable.
type Options struct {
	Root       string     // store directory; DefaultRoot when empty
	Registries []Registry // mirrors and plain-HTTP registries (see Registry)
}

// Store is an on-disk image store. Its methods may be called from several
// goroutines, and several processes may open the same root.
type Store struct {
	root string
	regs []Registry
}

// Layer is one layer of an image.
type Layer struct {
	Digest    string `json:"digest"`    // compressed blob digest
	DiffID    string `json:"diffID"`    // uncompressed tar digest: the unpacked dir's name
	Size      int64  `json:"size"`      // compressed size
	MediaType string `json:"mediaType"` // as in the manifest
}

// Image is an image record. ID is the config digest.
type Image struct {
	ID          string    `json:"id"`
	RepoTags    []string  `json:"repoTags,omitempty"`    // e.g. registry.k8s.io/pause:3.9
	RepoDigests []string  `json:"repoDigests,omitempty"` // e.g. registry.k8s.io/pause@sha256:...
	Manifest    string    `json:"manifest"`              // manifest digest
	Layers      []Layer   `json:"layers"`
	Size        int64     `json:"size"`   // sum of compressed layer sizes
	Pulled      time.Time `json:"pulled"` // when it was pulled or loaded
}

// Open opens (creating if needed) the store at opts.Root.
func Open(opts Options) (*Store, error) {
	root := opts.Root
	if root == "" {
		root = DefaultRoot
	}
	if !filepath.IsAbs(root) || strings.ContainsAny(root, ":,") {
		return nil, &Error{Op: "open", Ref: "Root", Err: fmt.Errorf("%w: %q is not absolute or has : or , (overlayfs options)", ErrBadConfig, root)}
	}
	if err := validateRegistries(opts.Registries); err != nil {
		return nil, err
	}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "images", "rootfs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, &Error{Op: "open", Ref: root, Err: err}
		}
	}
	return &Store{root: filepath.Clean(root), regs: append([]Registry(nil), opts.Registries...)}, nil
}

// Close releases nothing: a Store holds no descriptor between calls. (The
// image package's Store, which pulls, drops its registry connections.)
func (s *Store) Close() {}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// Registries are the store's registry settings (Options.Registries), for
// the image package's pulls.
func (s *Store) Registries() []Registry { return append([]Registry(nil), s.regs...) }

// TempDir is the directory content in progress is written in, renamed
// into place when complete; GC removes what is left there.
func (s *Store) TempDir() string { return filepath.Join(s.root, "tmp") }

// BlobPath is where the blob of digest (sha256:hex) is stored.
func (s *Store) BlobPath(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

// LayerPath is where the layer of diffID is unpacked.
func (s *Store) LayerPath(diffID string) string {
	return filepath.Join(s.root, "layers", "sha256", strings.TrimPrefix(diffID, "sha256:"))
}

func (s *Store) recordPath(id string) string {
	return filepath.Join(s.root, "images", strings.TrimPrefix(id, "sha256:")+".json")
}

// lock takes a flock on root/name: shared or exclusive. The returned
// function releases it.
func (s *Store) lock(name string, how int) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.root, name), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing the only descriptor releases the lock
}

// UseLock takes the use lock: shared by everything that adds content or
// pins layers (pull, load, rootfs creation), exclusive for GC and Remove.
// The returned function releases it.
func (s *Store) UseLock(exclusive bool) (func(), error) {
	if exclusive {
		return s.lock("use.lock", unix.LOCK_EX)
	}
	return s.lock("use.lock", unix.LOCK_SH)
}

// The index lock serialises rewrites of image records.
func (s *Store) indexLock() (func(), error) { return s.lock("index.lock", unix.LOCK_EX) }

// WriteFileAtomic writes data to a temp file in TempDir and renames it to
// path.
func (s *Store) WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "file-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// records reads every image record, sorted by ID.
func (s *Store) records() ([]*Image, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "images"))
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.root, "images", e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		img := new(Image)
		if err := json.Unmarshal(data, img); err != nil {
			return nil, fmt.Errorf("image record %s: %w", e.Name(), err)
		}
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *Store) writeRecord(img *Image) error {
	data, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return err
	}
	return s.WriteFileAtomic(s.recordPath(img.ID), data)
}

// List returns every image in the store.
func (s *Store) List() ([]Image, error) {
	recs, err := s.records()
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	out := make([]Image, len(recs))
	for i, r := range recs {
		out[i] = *r
	}
	return out, nil
}

// Status finds an image by ID (full, hex or a unique prefix of at least 12
// hex digits), tag, or repo digest. It returns an error wrapping ErrNotFound
// when there is none.
func (s *Store) Status(ref string) (*Image, error) { return s.status("status", ref) }

// status is Status with errors naming op.
func (s *Store) status(op, ref string) (*Image, error) {
	recs, err := s.records()
	if err != nil {
		return nil, &Error{Op: op, Ref: ref, Err: err}
	}
	img, _, err := lookup(recs, ref)
	if err != nil {
		return nil, &Error{Op: op, Ref: ref, Err: err}
	}
	return img, nil
}

// lookup finds ref among recs and says which name matched ("" for an ID).
func lookup(recs []*Image, ref string) (*Image, string, error) {
	if ref == "" {
		return nil, "", fmt.Errorf("%w: empty", ErrBadReference)
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if isHex(hex) && len(hex) >= 12 {
		var found *Image
		for _, r := range recs {
			if strings.HasPrefix(strings.TrimPrefix(r.ID, "sha256:"), hex) {
				if found != nil {
					return nil, "", fmt.Errorf("%w: ambiguous id prefix", ErrNotFound)
				}
				found = r
			}
		}
		if found != nil {
			return found, "", nil
		}
		if strings.HasPrefix(ref, "sha256:") || len(hex) == 64 {
			return nil, "", ErrNotFound // an ID, not a name
		}
	}
	r, err := imageref.Parse(ref)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	name := r.Name()
	for _, r := range recs {
		for _, n := range append(append([]string(nil), r.RepoTags...), r.RepoDigests...) {
			if n == name {
				return r, name, nil
			}
		}
	}
	return nil, "", ErrNotFound
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// Remove removes a name. A tag removes only that tag, and the image with
// its last tag; an ID or repo digest removes the image with all its names.
// Blobs and layers stay until GC.
func (s *Store) Remove(ref string) error {
	unuse, err := s.UseLock(true)
	if err != nil {
		return &Error{Op: "remove", Ref: ref, Err: err}
	}
	defer unuse()
	unlock, err := s.indexLock()
	if err != nil {
		return &Error{Op: "remove", Ref: ref, Err: err}
	}
	defer unlock()
	recs, err := s.records()
	if err != nil {
		return &Error{Op: "remove", Ref: ref, Err: err}
	}
	img, name, err := lookup(recs, ref)
	if err != nil {
		return &Error{Op: "remove", Ref: ref, Err: err}
	}
	if name != "" && !strings.Contains(name, "@") {
		img.RepoTags = without(img.RepoTags, name)
		if len(img.RepoTags) > 0 {
			return wrap("remove", ref, s.writeRecord(img))
		}
	}
	if err := os.Remove(s.recordPath(img.ID)); err != nil {
		return &Error{Op: "remove", Ref: ref, Err: err}
	}
	return nil
}

func without(list []string, name string) []string {
	out := list[:0:0]
	for _, n := range list {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// Commit records img (whose blobs and layers are stored) under the index
// lock: names it carries move to it from any other image, and an image left
// without names by the move is dropped (the name now means img).
func (s *Store) Commit(img *Image) error {
	unlock, err := s.indexLock()
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := s.records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.ID == img.ID {
			img.RepoTags = union(r.RepoTags, img.RepoTags)
			img.RepoDigests = union(r.RepoDigests, img.RepoDigests)
			continue
		}
		lost := false
		for _, n := range img.RepoTags {
			if len(without(r.RepoTags, n)) != len(r.RepoTags) {
				r.RepoTags, lost = without(r.RepoTags, n), true
			}
		}
		if !lost {
			continue
		}
		if len(r.RepoTags) == 0 {
			err = os.Remove(s.recordPath(r.ID))
		} else {
			err = s.writeRecord(r)
		}
		if err != nil {
			return err
		}
	}
	return s.writeRecord(img)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string(nil), a...), b...) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
