//go:build linux

package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/podkit/podkit/examples/internal/testutil"
	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) {
	warmUpPathrs()
	testharness.Main(m)
}

// warmUpPathrs makes filepath-securejoin's pathrs-lite open the procfs
// handle it keeps for the life of the process, so that the leak checker
// counts it as part of the baseline instead of as a leak of the first test
// that creates a mount point.
func warmUpPathrs() {
	dir, err := os.MkdirTemp("", "podkit-image-warmup-")
	if err != nil {
		return
	}
	defer os.RemoveAll(dir)
	if root, err := os.Open(dir); err == nil {
		if d, err := pathrs.MkdirAllHandle(root, "x", 0o700); err == nil {
			d.Close()
		}
		root.Close()
	}
}

// testRegistry is the shared in-process test registry
// (testutil.Registry: Host, Wrap, Push, PushIndex).
type testRegistry = testutil.Registry

func startRegistry(t testing.TB) *testRegistry { return testutil.StartRegistry(t) }

// openStore opens a store in a fresh temp dir that mirrors every registry
// to reg only (nothing leaves the machine).
func openStore(t testing.TB, reg *testRegistry) *Store {
	t.Helper()
	opts := Options{Root: filepath.Join(t.TempDir(), "store")}
	if reg != nil {
		opts.Registries = []Registry{{Prefix: "*", Mirrors: []string{reg.URL()}, SkipUpstream: true}}
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// entry is one file of a test layer.
type entry struct {
	name string
	body string // regular file content
	link string // symlink target
	hard string // hardlink target
	dir  bool
	mode int64
	data []byte // regular file content, instead of body
}

func tarBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Mode = tar.TypeDir, max(e.mode, 0o755)
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		case e.hard != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeLink, e.hard, 0o644
		default:
			data := e.data
			if data == nil {
				data = []byte(e.body)
			}
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, int64(len(data)), max(e.mode, 0o644)
			e.data = data
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	b := tarBytes(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// busyboxLayer is Debian's busybox-static with a few applet links and the
// passwd/group files the user tests resolve against.
func busyboxLayer(t testing.TB) v1.Layer {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("need Debian's busybox-static (integration/install-deps.sh installs it): %v", err)
	}
	return layerOf(t,
		entry{name: "bin", dir: true},
		entry{name: "bin/busybox", data: bb, mode: 0o755},
		entry{name: "bin/sh", link: "busybox"},
		entry{name: "bin/cat", link: "/bin/busybox"},
		entry{name: "bin/id", link: "busybox"},
		entry{name: "etc", dir: true},
		entry{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser1000:x:1000:1000::/home/u:/bin/sh\n"},
		entry{name: "etc/group", body: "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\nusers:x:100:www-data,user1000\n" +
			"predefined:x:50000:user1000\n"},
		entry{name: "tmp", dir: true, mode: 0o1777},
	)
}

// buildImage makes an image of layers with the given config.
func buildImage(t testing.TB, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", Platform().Architecture
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func imageID(t testing.TB, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// dirNames lists the entries of a store directory.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// requireEmptyStore checks that blobs, layers, images, rootfs and tmp hold
// nothing.
func requireEmptyStore(t testing.TB, s *Store) {
	t.Helper()
	for _, d := range []string{"blobs/sha256", "layers/sha256", "images", "rootfs", "tmp"} {
		if names := dirNames(t, filepath.Join(s.Root(), d)); len(names) > 0 {
			t.Errorf("store %s not empty: %s", d, strings.Join(names, " "))
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
