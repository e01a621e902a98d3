//go:build linux

package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// Two containers of one image share its unpacked layers (one copy) and
// each writes only to its own upper dir; a process runs in the rootfs;
// mount points land in the upper dir only.
func TestRootfsSharedLayers(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	img := buildImage(t, v1.Config{Cmd: []string{"sh"}}, busyboxLayer(t),
		layerOf(t, entry{name: "etc/motd", body: "hello\n"}, entry{name: "var", dir: true}, entry{name: "var/run", link: "/run"}, entry{name: "run", dir: true}))
	reg.Push(t, "library/busybox:1.36", img)
	s := openStore(t, reg)
	_, err := s.Pull(context.Background(), "busybox:1.36")
	must(t, err)

	a, err := s.CreateRootfs("ctr-a", "busybox:1.36")
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("ctr-a") })
	b, err := s.CreateRootfs("ctr-b", "docker.io/library/busybox:1.36")
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("ctr-b") })
	if _, err := s.CreateRootfs("ctr-a", "busybox:1.36"); !errors.Is(err, ErrRootfs) {
		t.Fatalf("second rootfs ctr-a: %v", err)
	}
	if n := len(dirNames(t, filepath.Join(s.Root(), "layers/sha256"))); n != 2 {
		t.Fatalf("%d unpacked layers for two containers of a 2-layer image, want 2", n)
	}

	// A real process in container a writes a file and reads the image's.
	out, err := chrootRun(a.Dir, "echo from-a > /tmp/a && cat /etc/motd && id -u")
	if err != nil || out != "hello\n0\n" {
		t.Fatalf("run in rootfs a: %q, %v", out, err)
	}
	if data, err := os.ReadFile(filepath.Join(a.Upper, "tmp/a")); err != nil || string(data) != "from-a\n" {
		t.Fatalf("a's write is not in a's upper dir: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "tmp/a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("b sees a's file: %v", err)
	}
	for _, l := range dirNames(t, filepath.Join(s.Root(), "layers/sha256")) {
		if _, err := os.Stat(filepath.Join(s.Root(), "layers/sha256", l, "tmp/a")); err == nil {
			t.Fatalf("a's write landed in shared layer %s", l)
		}
	}

	// Mount points: a directory deep in a new path, a file, and a path
	// through the image's symlink /var/run -> /run: all in the upper dir.
	for _, mp := range []struct {
		path string
		dir  bool
	}{{"/data/volumes/v1", true}, {"/etc/hosts", false}, {"/var/run/secrets", true}} {
		host, err := a.MountPoint(mp.path, mp.dir)
		must(t, err)
		if !strings.HasPrefix(host, a.Dir+"/") {
			t.Fatalf("MountPoint(%s) = %s, not under %s", mp.path, host, a.Dir)
		}
		fi, err := os.Stat(host)
		if err != nil || fi.IsDir() != mp.dir {
			t.Fatalf("MountPoint(%s): %v %v", mp.path, fi, err)
		}
	}
	for _, p := range []string{"data/volumes/v1", "etc/hosts", "run/secrets"} {
		if _, err := os.Stat(filepath.Join(a.Upper, p)); err != nil {
			t.Errorf("mount point %s not in the upper dir: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "data")); err == nil {
		t.Fatal("a's mount point shows in b")
	}
	if _, err := a.MountPoint("relative", true); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("relative mount point: %v", err)
	}

	// A bind mount on the mount point works, and goes with the rootfs.
	vol := t.TempDir()
	must(t, os.WriteFile(filepath.Join(vol, "f"), []byte("vol"), 0o644))
	host, err := a.MountPoint("/data/volumes/v1", true)
	must(t, err)
	must(t, unix.Mount(vol, host, "", unix.MS_BIND, ""))
	out, err = chrootRun(a.Dir, "cat /data/volumes/v1/f")
	must(t, unix.Unmount(host, 0))
	if err != nil || out != "vol" {
		t.Fatalf("volume in container: %q %v", out, err)
	}

	// The image can go while containers use it: GC keeps their layers.
	must(t, s.Remove("busybox:1.36"))
	res, err := s.GC()
	must(t, err)
	if res.Layers != 0 {
		t.Fatalf("GC removed layers in use: %+v", res)
	}
	rs, err := s.ListRootfs()
	must(t, err)
	if len(rs) != 2 || rs[0].ID != "ctr-a" || rs[1].Image != imageID(t, img) {
		t.Fatalf("ListRootfs: %+v", rs)
	}
	must(t, s.RemoveRootfs("ctr-a"))
	must(t, s.RemoveRootfs("ctr-b"))
	must(t, s.RemoveRootfs("ctr-b")) // idempotent
	res, err = s.GC()
	must(t, err)
	if res.Layers != 2 {
		t.Fatalf("GC after the containers went: %+v", res)
	}
	requireEmptyStore(t, s)
}

// chrootRun runs busybox sh -c script chrooted into root.
func chrootRun(root, script string) (string, error) {
	cmd := exec.Command("/bin/busybox", "sh", "-c", script)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A multi-layer image that deletes, empties and re-creates files unpacks
// to overlay whiteouts and mounts to exactly the expected tree.
func TestWhiteoutsAndOpaqueDirs(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	img := buildImage(t, v1.Config{Cmd: []string{"sh"}},
		layerOf(t,
			entry{name: "a", dir: true}, entry{name: "a/keep", body: "k"}, entry{name: "a/gone", body: "g1"},
			entry{name: "dir", dir: true}, entry{name: "dir/old1", body: "o1"}, entry{name: "dir/sub", dir: true},
			entry{name: "dir/sub/old2", body: "o2"}, entry{name: "x", body: "file x"}, entry{name: "link", link: "a/keep"}),
		layerOf(t,
			entry{name: "a", dir: true}, entry{name: "a/.wh.gone"},
			entry{name: "dir", dir: true}, entry{name: "dir/.wh..wh..opq"}, entry{name: "dir/new", body: "n"},
			entry{name: ".wh.x"}),
		zstdLayerOf(t, // and zstd-compressed
			entry{name: "a", dir: true}, entry{name: "a/gone", body: "g2"},
			entry{name: "x", dir: true}, entry{name: "x/y", body: "y"}),
	)
	reg.Push(t, "whiteouts:v1", img)
	s := openStore(t, reg)
	rec, err := s.Pull(context.Background(), "example.com/whiteouts:v1")
	must(t, err)

	if rec.Layers[2].MediaType != string(types.OCILayerZStd) {
		t.Fatalf("layer 3 is %s, want zstd", rec.Layers[2].MediaType)
	}
	// The middle layer holds the overlay forms of the OCI whiteouts.
	mid := s.LayerPath(rec.Layers[1].DiffID)
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(mid, "a/gone"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Fatalf("a/gone in layer 2: mode %o rdev %d, want a 0:0 char device", st.Mode, st.Rdev)
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(mid, "dir"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("dir in layer 2: trusted.overlay.opaque = %q, %v", buf[:n], err)
	}

	r, err := s.CreateRootfs("w1", "example.com/whiteouts:v1")
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("w1") })
	want := []string{"a/", "a/gone=g2", "a/keep=k", "dir/", "dir/new=n", "link->a/keep", "x/", "x/y=y"}
	if got := tree(t, r.Dir); !slices.Equal(got, want) {
		t.Fatalf("merged tree\n got %v\nwant %v", got, want)
	}
	must(t, s.RemoveRootfs("w1"))
}

func zstdLayerOf(t *testing.T, entries ...entry) v1.Layer {
	b := tarBytes(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	must(t, err)
	return l
}

// tree lists root as "dir/", "file=content", "link->target", sorted.
func tree(t *testing.T, root string) []string {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			out = append(out, rel+"/")
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+"->"+target)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, rel+"="+string(data))
		}
		return nil
	})
	must(t, err)
	sort.Strings(out)
	return out
}

// An image with the same layer twice (A, B deleting A's file, A again)
// mounts, with A's file back.
func TestRepeatedLayer(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	a := layerOf(t, entry{name: "f", body: "a"})
	img := buildImage(t, v1.Config{}, a, layerOf(t, entry{name: ".wh.f"}, entry{name: "g", body: "b"}), a)
	reg.Push(t, "repeat:1", img)
	s := openStore(t, reg)
	_, err := s.Pull(context.Background(), "example.com/repeat:1")
	must(t, err)
	r, err := s.CreateRootfs("rep", "example.com/repeat:1")
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("rep") })
	if got, want := tree(t, r.Dir), []string{"f=a", "g=b"}; !slices.Equal(got, want) {
		t.Fatalf("tree %v, want %v", got, want)
	}
	must(t, s.RemoveRootfs("rep"))
}
