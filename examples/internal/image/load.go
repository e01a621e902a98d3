//go:build linux

package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// Load stores the images of an OCI image layout directory, an OCI archive
// (a tar of a layout) or a `docker save` tarball, without a registry. Images
// are named from the archive (Docker's RepoTags; the layout's
// io.containerd.image.name or org.opencontainers.image.ref.name
// annotations); a non-empty tag names the archive's only image as well.
func (s *Store) Load(ctx context.Context, path, tag string) ([]*Image, error) {
	if tag != "" {
		if _, err := normalize(tag); err != nil {
			return nil, &Error{Op: "load", Ref: tag, Err: err}
		}
	}
	imgs, err := s.load(ctx, path, tag)
	var ie *Error
	if err != nil && !errors.As(err, &ie) { // keep a more precise Op and Ref
		err = &Error{Op: "load", Ref: path, Err: err}
	}
	return imgs, err
}

func (s *Store) load(ctx context.Context, path, tag string) ([]*Image, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if fi.IsDir() {
		return s.loadLayout(ctx, path, tag)
	}
	kind, err := archiveKind(path)
	if err != nil {
		return nil, err
	}
	if kind == "docker" {
		return s.loadDocker(ctx, path, tag)
	}
	dir, err := os.MkdirTemp(s.TempDir(), "archive-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractArchive(path, dir); err != nil {
		return nil, err
	}
	return s.loadLayout(ctx, dir, tag)
}

// archiveKind says whether a tar is a docker save ("docker": it has
// manifest.json) or an OCI archive ("oci": it has oci-layout).
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	kind := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrCorruptLayer, err)
		}
		switch filepath.Clean(hdr.Name) {
		case "manifest.json":
			return "docker", nil
		case "oci-layout":
			kind = "oci"
		}
	}
	if kind == "" {
		return "", fmt.Errorf("%w: neither manifest.json nor oci-layout in the archive", ErrUnsupported)
	}
	return kind, nil
}

// extractArchive unpacks the regular files and directories of an OCI
// archive into dir, refusing names that climb out of it.
func extractArchive(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorruptLayer, err)
		}
		rel, ok := inside(".", hdr.Name)
		if !ok || strings.HasPrefix(hdr.Name, "/") {
			return fmt.Errorf("%w: archive entry %q", ErrUnsafeLayer, hdr.Name)
		}
		dst := filepath.Join(dir, rel)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o700)
		case tar.TypeReg:
			err = writeFrom(dst, tr)
		default:
			err = fmt.Errorf("%w: archive entry %q has type %c", ErrUnsupported, hdr.Name, hdr.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

func writeFrom(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptLayer, err)
	}
	return nil
}

// loadLayout stores every image of a layout that fits Platform().
func (s *Store) loadLayout(ctx context.Context, dir, tag string) ([]*Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: not an OCI layout: %v", ErrUnsupported, err)
	}
	found, err := layoutImages(idx, nil)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no image for %s in the layout", ErrNotFound, Platform())
	}
	if tag != "" && len(found) > 1 {
		return nil, fmt.Errorf("%w: %d images in the layout, cannot tag them all %s", ErrBadReference, len(found), tag)
	}
	var out []*Image
	for _, f := range found {
		tags := f.names
		if tag != "" {
			tags = append(tags, tag)
		}
		rec, err := s.ingest(ctx, fromFile, f.img, canonicalAll(tags), nil)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

type namedImage struct {
	img   v1.Image
	names []string
}

// layoutImages walks an index (and nested indexes), keeping images whose
// platform is this machine's or unstated. names come from the annotations
// of the outermost descriptor that has them.
func layoutImages(idx v1.ImageIndex, names []string) ([]namedImage, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrCorruptLayer, err)
	}
	var out []namedImage
	for _, d := range im.Manifests {
		if d.Platform != nil && !d.Platform.Satisfies(Platform()) {
			continue
		}
		n := names
		if n == nil {
			n = annotatedNames(d.Annotations)
		}
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrCorruptLayer, err)
			}
			out = append(out, namedImage{img, n})
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrCorruptLayer, err)
			}
			more, err := layoutImages(child, n)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

func annotatedNames(a map[string]string) []string {
	if n := a["io.containerd.image.name"]; n != "" {
		return []string{n}
	}
	if n := a["org.opencontainers.image.ref.name"]; n != "" && strings.ContainsAny(n, "/:") {
		return []string{n} // a bare tag such as "3.9" names no repository
	}
	return nil
}

func canonicalAll(names []string) []string {
	var out []string
	for _, n := range names {
		if c, err := normalize(n); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// loadDocker stores every image of a `docker save` tarball.
func (s *Store) loadDocker(ctx context.Context, path, tag string) ([]*Image, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrCorruptLayer, err)
	}
	if tag != "" && len(m) != 1 {
		return nil, fmt.Errorf("%w: %d images in the tarball, cannot tag them all %s", ErrBadReference, len(m), tag)
	}
	var out []*Image
	for _, d := range m {
		var t *name.Tag
		if len(d.RepoTags) > 0 {
			nt, err := name.NewTag(d.RepoTags[0])
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadReference, err)
			}
			t = &nt
		} else if len(m) > 1 {
			return nil, fmt.Errorf("%w: an untagged image among several in the tarball", ErrUnsupported)
		}
		img, err := tarball.Image(opener, t)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorruptLayer, err)
		}
		tags := append([]string(nil), d.RepoTags...)
		if tag != "" {
			tags = append(tags, tag)
		}
		rec, err := s.ingest(ctx, fromFile, img, canonicalAll(tags), nil)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
