//go:build linux

package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/podkit/podkit/internal/testharness"
)

// requireErr checks that err is an *Error with op and ref wrapping want.
func requireErr(t *testing.T, err error, want error, op, ref string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	var ie *Error
	if !errors.As(err, &ie) || ie.Op != op || ie.Ref != ref {
		t.Fatalf("error %#v, want *Error with Op %q Ref %q", err, op, ref)
	}
}

// requireNothingLeft checks that a failed pull listed nothing and left no
// temp files, and that GC then empties the store.
func requireNothingLeft(t *testing.T, s *Store) {
	t.Helper()
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List after a failed pull: %+v %v", list, err)
	}
	if left := dirNames(t, filepath.Join(s.Root(), "tmp")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
	if _, err := s.GC(); err != nil {
		t.Fatal(err)
	}
	requireEmptyStore(t, s)
}

func TestBadReferencesAndUnknownImages(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	reg.Push(t, "pause:3.9", buildImage(t, v1.Config{Cmd: []string{"sh"}}, busyboxLayer(t)))
	s := openStore(t, reg)
	ctx := context.Background()

	_, err := s.Pull(ctx, "registry.k8s.io/Pause::3.9")
	requireErr(t, err, ErrBadReference, "pull", "registry.k8s.io/Pause::3.9")
	_, err = s.Pull(ctx, "registry.k8s.io/unknown:1")
	requireErr(t, err, ErrNotFound, "pull", "registry.k8s.io/unknown:1")
	_, err = s.Pull(ctx, "registry.k8s.io/pause:3.10")
	requireErr(t, err, ErrNotFound, "pull", "registry.k8s.io/pause:3.10")
	wrong := "registry.k8s.io/pause@sha256:" + strings.Repeat("0", 64)
	_, err = s.Pull(ctx, wrong)
	requireErr(t, err, ErrNotFound, "pull", wrong)
	_, err = s.Status("registry.k8s.io/pause:3.9")
	requireErr(t, err, ErrNotFound, "status", "registry.k8s.io/pause:3.9")
	requireErr(t, s.Remove("nope"), ErrNotFound, "remove", "nope")
	id := "sha256:" + strings.Repeat("ab", 32)
	requireErr(t, s.Remove(id), ErrNotFound, "remove", id)
	_, err = s.Status(id[7:])
	requireErr(t, err, ErrNotFound, "status", id[7:])
	_, err = s.CreateRootfs("c1", "nope")
	requireErr(t, err, ErrNotFound, "mount", "nope")
	_, err = s.CreateRootfs("../c1", "nope")
	requireErr(t, err, ErrRootfs, "mount", "../c1")
	requireNothingLeft(t, s)

	_, err = Open(Options{Root: "relative"})
	requireErr(t, err, ErrBadConfig, "open", "Root")
	_, err = Open(Options{Root: t.TempDir(), Registries: []Registry{{Prefix: "*", Mirrors: []string{"ftp://x"}}}})
	requireErr(t, err, ErrBadConfig, "open", "Registries[0].Mirrors[0]")
}

// A registry that sends a wrong byte, or stops halfway through a layer.
func TestBrokenRegistry(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	layer := busyboxLayer(t)
	reg.Push(t, "pause:3.9", buildImage(t, v1.Config{Cmd: []string{"sh"}}, layer))
	ld, err := layer.Digest()
	must(t, err)
	mode := ""
	reg.Wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+ld.String()) {
			return false
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		switch mode {
		case "tamper":
			body = bytes.Clone(body)
			body[len(body)/2] ^= 0xff
			w.Write(body)
		case "stop":
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}
		return true
	}
	s := openStore(t, reg)
	ref := "registry.k8s.io/pause:3.9"

	mode = "tamper"
	_, err = s.Pull(context.Background(), ref)
	requireErr(t, err, ErrDigestMismatch, "pull", ref)
	requireNothingLeft(t, s)

	mode = "stop"
	_, err = s.Pull(context.Background(), ref)
	requireErr(t, err, ErrRegistry, "pull", ref)
	requireNothingLeft(t, s)
}

// Layers that are not gzip, gzip cut short, and tars that climb out of the
// rootfs are refused, leave nothing listed, and write nothing outside.
func TestBadLayers(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	s := openStore(t, reg)
	outside := t.TempDir()
	good := tarBytes(t, entry{name: "bin", dir: true}, entry{name: "bin/x", data: bytes.Repeat([]byte("x"), 1<<16)})
	gz := gzipBytes(t, good)
	deep := strings.Repeat("../", 30)

	cases := []struct {
		name  string
		layer v1.Layer
		want  error
	}{
		{"garbage", static.NewLayer([]byte("this is not a layer at all, not even a tar"), types.OCILayer), ErrCorruptLayer},
		{"truncated-gzip", static.NewLayer(gz[:len(gz)/2], types.DockerLayer), ErrCorruptLayer},
		{"truncated-tar", static.NewLayer(good[:len(good)/2], types.OCIUncompressedLayer), ErrCorruptLayer},
		{"dotdot", layerOf(t, entry{name: deep + outside[1:] + "/pwned", body: "x"}), ErrUnsafeLayer},
		{"abs-symlink", layerOf(t, entry{name: "evil", link: outside}, entry{name: "evil/pwned", body: "x"}), ErrUnsafeLayer},
		{"rel-symlink", layerOf(t, entry{name: "a", dir: true}, entry{name: "a/up", link: "../" + deep + outside[1:]}), ErrUnsafeLayer},
		{"hardlink", layerOf(t, entry{name: "pw", hard: deep + "etc/passwd"}), ErrUnsafeLayer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg.Push(t, "bad/"+c.name+":1", buildImage(t, v1.Config{}, c.layer))
			ref := "example.com/bad/" + c.name + ":1"
			_, err := s.Pull(context.Background(), ref)
			requireErr(t, err, c.want, "pull", ref)
			t.Log(err)
			requireNothingLeft(t, s)
			if names := dirNames(t, outside); len(names) > 0 {
				t.Fatalf("written outside the store: %v", names)
			}
		})
	}
}

// A config whose diff ID does not match the layer's content.
func TestWrongDiffID(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	s := openStore(t, reg)
	img := buildImage(t, v1.Config{}, layerOf(t, entry{name: "f", body: "x"}))
	cf, err := img.ConfigFile()
	must(t, err)
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[0] = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}
	img, err = mutate.ConfigFile(img, cf)
	must(t, err)
	reg.Push(t, "diffid:1", img)
	_, err = s.Pull(context.Background(), "example.com/diffid:1")
	requireErr(t, err, ErrDigestMismatch, "pull", "example.com/diffid:1")
	requireNothingLeft(t, s)
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}
