//go:build linux

package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// source says where content comes from, which decides how a failed read is
// classified: a registry that stops is ErrRegistry, a bad file ErrCorruptLayer.
type source int

const (
	fromRegistry source = iota
	fromFile
)

func (src source) readErr(err error) error {
	if errors.Is(err, ErrDigestMismatch) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// go-containerregistry's verifying reader and manifest fetcher say so
	// only in words (their error types are internal).
	for _, s := range []string{"error verifying sha256 checksum", "does not match requested digest", "error verifying Digest"} {
		if strings.Contains(err.Error(), s) {
			return fmt.Errorf("%w: %v", ErrDigestMismatch, err)
		}
	}
	if src == fromRegistry {
		return fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	return fmt.Errorf("%w: %v", ErrCorruptLayer, err)
}

// ingest stores img's blobs, unpacks its layers and records it under tags
// and digests. The record is written last, so a failure leaves no image.
func (s *Store) ingest(ctx context.Context, src source, img v1.Image, tags, digests []string) (*Image, error) {
	unuse, err := s.UseLock(false)
	if err != nil {
		return nil, err
	}
	defer unuse()
	rec, rawManifest, rawConfig, err := describe(src, img)
	if err != nil {
		return nil, err
	}
	rec.RepoTags, rec.RepoDigests = tags, digests
	if err := s.fetchLayers(ctx, src, img, rec.Layers); err != nil {
		return nil, err
	}
	for _, l := range rec.Layers {
		if err := s.unpackLayer(ctx, l); err != nil {
			return nil, err
		}
	}
	if err := s.putBytes(rec.ID, rawConfig); err != nil {
		return nil, err
	}
	if err := s.putBytes(rec.Manifest, rawManifest); err != nil {
		return nil, err
	}
	if err := s.Commit(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// describe reads and checks img's manifest and config and returns the
// record it will have (without names) and both raw documents.
func describe(src source, img v1.Image) (rec *Image, rawManifest, rawConfig []byte, err error) {
	if rawManifest, err = img.RawManifest(); err != nil {
		return nil, nil, nil, src.readErr(err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: manifest: %v", ErrUnsupported, err)
	}
	if rawConfig, err = img.RawConfigFile(); err != nil {
		return nil, nil, nil, src.readErr(err)
	}
	if got := digestOf(rawConfig); got != m.Config.Digest.String() {
		return nil, nil, nil, fmt.Errorf("%w: config is %s, manifest says %s", ErrDigestMismatch, got, m.Config.Digest)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: config: %v", ErrUnsupported, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, nil, nil, fmt.Errorf("%w: %d layers but %d diff IDs", ErrCorruptLayer, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	rec = &Image{ID: m.Config.Digest.String(), Manifest: digestOf(rawManifest), Pulled: time.Now().UTC()}
	for i, d := range m.Layers {
		if !isLayerMediaType(d.MediaType) {
			return nil, nil, nil, fmt.Errorf("%w: layer %d has media type %s", ErrUnsupported, i, d.MediaType)
		}
		rec.Layers = append(rec.Layers, Layer{Digest: d.Digest.String(), DiffID: cfg.RootFS.DiffIDs[i].String(),
			Size: d.Size, MediaType: string(d.MediaType)})
		rec.Size += d.Size
	}
	return rec, rawManifest, rawConfig, nil
}

func isLayerMediaType(mt types.MediaType) bool {
	switch mt {
	case types.DockerLayer, types.DockerUncompressedLayer, types.OCILayer, types.OCIUncompressedLayer,
		types.OCILayerZStd:
		return true
	}
	return false
}

// fetchLayers stores every layer blob the store lacks.
func (s *Store) fetchLayers(ctx context.Context, src source, img v1.Image, layers []Layer) error {
	ls, err := img.Layers()
	if err != nil {
		return src.readErr(err)
	}
	report := progressOf(ctx)
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := Progress{Layer: l.Digest, Size: l.Size}
		if _, err := os.Stat(s.BlobPath(l.Digest)); err == nil {
			p.Done, p.Cached, p.Complete = l.Size, true, true
			report(p)
			continue
		}
		report(p)
		rc, err := ls[i].Compressed()
		if err != nil {
			return src.readErr(err)
		}
		err = s.putBlob(src, l.Digest, l.Size, &progressReader{r: rc, p: p, report: report, last: time.Now()})
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		p.Done, p.Complete = l.Size, true
		report(p)
	}
	return nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func checkDigest(d string) error {
	h, ok := strings.CutPrefix(d, "sha256:")
	if _, err := hex.DecodeString(h); !ok || len(h) != 64 || err != nil || strings.ToLower(h) != h {
		return fmt.Errorf("%w: %q is not a sha256 digest", ErrUnsupported, d)
	}
	return nil
}

func (s *Store) putBytes(digest string, data []byte) error {
	return s.putBlob(fromFile, digest, int64(len(data)), bytes.NewReader(data))
}

// putBlob streams r into blobs/ under digest, verifying size and digest on
// the way; only verified content is renamed into place.
func (s *Store) putBlob(src source, digest string, size int64, r io.Reader) error {
	if err := checkDigest(digest); err != nil {
		return err
	}
	dst := s.BlobPath(digest)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	f, err := os.CreateTemp(s.TempDir(), "blob-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename this finds nothing
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	if err != nil {
		return src.readErr(err)
	}
	if n != size {
		return src.readErr(fmt.Errorf("blob %s: got %d bytes, want %d", digest, n, size))
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: blob %s hashes to %s", ErrDigestMismatch, digest, got)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}
