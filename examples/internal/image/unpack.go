//go:build linux

package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/umoci/oci/layer"
	"golang.org/x/sys/unix"
)

// unpackLayer unpacks the stored blob of l into layers/<diffID> unless it
// is there already. It unpacks into tmp/ and renames, so a layer directory
// that exists is complete and verified against its diff ID.
func (s *Store) unpackLayer(ctx context.Context, l Layer) (err error) {
	if err := checkDigest(l.DiffID); err != nil {
		return err
	}
	dst := s.LayerPath(l.DiffID)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	blob, err := os.Open(s.BlobPath(l.Digest))
	if err != nil {
		return err
	}
	defer blob.Close()
	tmp, err := os.MkdirTemp(s.TempDir(), "layer-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := unpackTar(ctx, tmp, blob, l.DiffID); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			os.RemoveAll(tmp) // another pull of the same layer won
			return nil
		}
		return err
	}
	return nil
}

// decompress detects gzip, zstd or a plain tar by its magic number.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrCorruptLayer, err)
		}
		return zr, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrCorruptLayer, err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// unpackTar unpacks a (compressed) layer into dir with overlayfs whiteouts,
// refusing unsafe entries, and checks the uncompressed stream's digest.
func unpackTar(ctx context.Context, dir string, blob io.Reader, diffID string) error {
	zr, err := decompress(blob)
	if err != nil {
		return err
	}
	defer zr.Close()
	h := sha256.New()
	stream := io.TeeReader(zr, h)
	te := layer.NewTarExtractor(&layer.UnpackOptions{OnDiskFormat: layer.OverlayfsRootfs{}})
	tr := tar.NewReader(stream)
	guard := newEntryGuard()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("%w: %q", ErrUnsafeLayer, hdr.Name)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorruptLayer, err)
		}
		if err := guard.check(hdr); err != nil {
			return err
		}
		if err := te.UnpackEntry(dir, hdr, tr); err != nil {
			switch {
			case errors.Is(err, io.ErrUnexpectedEOF):
				return fmt.Errorf("%w: %s: %v", ErrCorruptLayer, hdr.Name, err)
			case strings.Contains(err.Error(), "malicious"):
				return fmt.Errorf("%w: %s: %v", ErrUnsafeLayer, hdr.Name, err)
			}
			return fmt.Errorf("unpack %s: %w", hdr.Name, err)
		}
	}
	// The tar end marker may be followed by padding that is part of the digest.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptLayer, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		return fmt.Errorf("%w: layer content hashes to %s, config says %s", ErrDigestMismatch, got, diffID)
	}
	return nil
}

// entryGuard refuses what would climb out of the rootfs: names or hardlink
// targets with ".." above the root, relative symlinks pointing above the
// root, and entries written through a symlink of the same layer (the way an
// absolute symlink such as "x -> /etc" would aim a later "x/passwd" at the
// host; umoci would keep it inside, but no honest layer does that).
type entryGuard struct{ links map[string]bool }

func newEntryGuard() *entryGuard { return &entryGuard{links: map[string]bool{}} }

func (g *entryGuard) check(hdr *tar.Header) error {
	name, ok := inside(".", hdr.Name)
	if !ok {
		return fmt.Errorf("%w: %q climbs out of the rootfs", ErrUnsafeLayer, hdr.Name)
	}
	for p := path.Dir(name); p != "." && p != "/"; p = path.Dir(p) {
		if g.links[p] {
			return fmt.Errorf("%w: %q is written through the symlink %q", ErrUnsafeLayer, hdr.Name, p)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeLink:
		if _, ok := inside(".", hdr.Linkname); !ok {
			return fmt.Errorf("%w: hardlink %q -> %q climbs out of the rootfs", ErrUnsafeLayer, hdr.Name, hdr.Linkname)
		}
	case tar.TypeSymlink:
		if !path.IsAbs(hdr.Linkname) {
			if _, ok := inside(path.Dir(name), hdr.Linkname); !ok {
				return fmt.Errorf("%w: symlink %q -> %q points out of the rootfs", ErrUnsafeLayer, hdr.Name, hdr.Linkname)
			}
		}
		g.links[name] = true
		return nil
	}
	delete(g.links, name) // replaced by something that is not a symlink
	if base := path.Base(name); strings.HasPrefix(base, ".wh.") {
		delete(g.links, path.Join(path.Dir(name), strings.TrimPrefix(base, ".wh.")))
	}
	return nil
}

// inside joins rel to dir (both relative to the rootfs; a leading / counts
// from the root) component by component and reports whether it ever climbs
// above the root. It returns the cleaned relative path.
func inside(dir, rel string) (string, bool) {
	if path.IsAbs(rel) {
		dir = "."
	}
	depth := 0
	if dir != "." {
		depth = len(strings.Split(path.Clean(dir), "/"))
	}
	for _, c := range strings.Split(rel, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", false
			}
		default:
			depth++
		}
	}
	return strings.TrimPrefix(path.Clean("/"+rel), "/"), true
}
