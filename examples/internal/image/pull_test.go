//go:build linux

package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/podkit/podkit/internal/testharness"
)

// Two registries' names for one image (registry.k8s.io and k8s.gcr.io
// pause) answered by one mirror give one image with two tags, its blobs
// stored once; removing one tag keeps the other; removing the last and GC
// leave an empty store.
func TestPullThroughMirrorRemoveGC(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	img := buildImage(t, v1.Config{Entrypoint: []string{"/bin/busybox", "sleep", "3600"}}, busyboxLayer(t))
	mdigest := reg.Push(t, "pause:3.9", img)
	s := openStore(t, reg)
	ctx := context.Background()

	got, err := s.Pull(ctx, "registry.k8s.io/pause:3.9")
	must(t, err)
	if got.ID != imageID(t, img) {
		t.Fatalf("ID %s, want the config digest %s", got.ID, imageID(t, img))
	}
	if want := []string{"registry.k8s.io/pause:3.9"}; !slices.Equal(got.RepoTags, want) {
		t.Fatalf("RepoTags %v, want %v (the requested name, not the mirror's)", got.RepoTags, want)
	}
	if want := []string{"registry.k8s.io/pause@" + mdigest.String()}; !slices.Equal(got.RepoDigests, want) {
		t.Fatalf("RepoDigests %v, want %v", got.RepoDigests, want)
	}
	u, err := s.Usage()
	must(t, err)
	if u.Bytes < 1<<20 || u.Inodes < 10 {
		t.Fatalf("Usage %+v with busybox stored", u)
	}
	blobsAfterOne := dirNames(t, filepath.Join(s.Root(), "blobs/sha256"))
	if len(blobsAfterOne) != 3 { // manifest, config, one layer
		t.Fatalf("blobs %v, want 3", blobsAfterOne)
	}

	_, err = s.Pull(ctx, "k8s.gcr.io/pause:3.9")
	must(t, err)
	list, err := s.List()
	must(t, err)
	if len(list) != 1 || !slices.Equal(list[0].RepoTags, []string{"k8s.gcr.io/pause:3.9", "registry.k8s.io/pause:3.9"}) {
		t.Fatalf("List %+v, want one image with both tags", list)
	}
	if b := dirNames(t, filepath.Join(s.Root(), "blobs/sha256")); !slices.Equal(b, blobsAfterOne) {
		t.Fatalf("second name stored blobs again: %v", b)
	}
	for _, ref := range []string{"registry.k8s.io/pause:3.9", got.ID, got.ID[7:19], got.RepoDigests[0]} {
		if st, err := s.Status(ref); err != nil || st.ID != got.ID {
			t.Fatalf("Status(%s) = %v, %v", ref, st, err)
		}
	}

	must(t, s.Remove("registry.k8s.io/pause:3.9"))
	st, err := s.Status("k8s.gcr.io/pause:3.9")
	must(t, err)
	if !slices.Equal(st.RepoTags, []string{"k8s.gcr.io/pause:3.9"}) {
		t.Fatalf("after removing one tag: %v", st.RepoTags)
	}
	if _, err := s.Status("registry.k8s.io/pause:3.9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed tag still found: %v", err)
	}
	res, err := s.GC()
	must(t, err)
	if res.Blobs != 0 || res.Layers != 0 {
		t.Fatalf("GC removed %+v while the image is still tagged", res)
	}
	must(t, s.Remove("k8s.gcr.io/pause:3.9"))
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("List after removing the last tag: %+v", list)
	}
	res, err = s.GC()
	must(t, err)
	if res.Blobs != 3 || res.Layers != 1 {
		t.Fatalf("GC removed %+v, want 3 blobs and 1 layer", res)
	}
	requireEmptyStore(t, s)
	if err := s.Remove("k8s.gcr.io/pause:3.9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

// A multi-arch index resolves to this machine's platform; re-pushing a tag
// moves the name to the new image, and the old one, nameless, goes.
func TestPullMultiArchAndRetag(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	bb := busyboxLayer(t)
	native := buildImage(t, v1.Config{Cmd: []string{"sh"}}, bb)
	other := buildImage(t, v1.Config{Cmd: []string{"other"}}, bb)
	otherArch := "arm64"
	if Platform().Architecture == "arm64" {
		otherArch = "amd64"
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch}}},
		mutate.IndexAddendum{Add: native, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: Platform().Architecture}}},
	)
	reg.PushIndex(t, "e2e-test-images/busybox:1.29-2", idx)
	s := openStore(t, reg)
	got, err := s.Pull(context.Background(), "registry.k8s.io/e2e-test-images/busybox:1.29-2")
	must(t, err)
	if got.ID != imageID(t, native) {
		t.Fatalf("pulled %s, want the %s image %s", got.ID, Platform().Architecture, imageID(t, native))
	}
	idxDigest, err := idx.Digest()
	must(t, err)
	if want := "registry.k8s.io/e2e-test-images/busybox@" + idxDigest.String(); !slices.Equal(got.RepoDigests, []string{want}) {
		t.Fatalf("RepoDigests %v, want the index digest %s", got.RepoDigests, want)
	}

	// The tag moves to a new image.
	newer := buildImage(t, v1.Config{Cmd: []string{"sh", "-c", "newer"}}, bb)
	reg.Push(t, "e2e-test-images/busybox:1.29-2", newer)
	got2, err := s.Pull(context.Background(), "registry.k8s.io/e2e-test-images/busybox:1.29-2")
	must(t, err)
	list, err := s.List()
	must(t, err)
	if len(list) != 1 || list[0].ID != got2.ID || got2.ID == got.ID {
		t.Fatalf("after the tag moved: %+v", list)
	}
	if n := len(dirNames(t, filepath.Join(s.Root(), "layers/sha256"))); n != 1 {
		t.Fatalf("%d unpacked layers, want 1 shared by both images", n)
	}
}

// Two goroutines and two processes pull one image into one store at once:
// one image, each layer unpacked once, no temp files left.
func TestConcurrentPull(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	img := buildImage(t, v1.Config{Cmd: []string{"sh"}}, busyboxLayer(t),
		layerOf(t, entry{name: "data", dir: true}, entry{name: "data/a", body: "a"}),
		layerOf(t, entry{name: "data/b", body: "b"}))
	reg.Push(t, "library/busybox:latest", img)
	s := openStore(t, reg)

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 2 {
		wg.Go(func() { _, errs[i] = s.Pull(context.Background(), "busybox") })
	}
	for i := 2; i < 4; i++ {
		cmd := testharness.HelperCmd("pull", s.Root(), reg.URL(), "docker.io/library/busybox:latest")
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("helper: %v: %s", err, out)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("puller %d: %v", i, err)
		}
	}
	list, err := s.List()
	must(t, err)
	if len(list) != 1 || !slices.Equal(list[0].RepoTags, []string{"docker.io/library/busybox:latest"}) {
		t.Fatalf("List %+v", list)
	}
	if n := len(dirNames(t, filepath.Join(s.Root(), "layers/sha256"))); n != 3 {
		t.Fatalf("%d unpacked layers, want 3", n)
	}
	if left := dirNames(t, filepath.Join(s.Root(), "tmp")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func init() {
	// pull ROOT MIRROR REF: pull REF into the store at ROOT through MIRROR.
	testharness.RegisterHelper("pull", func() int {
		s, err := Open(Options{Root: os.Args[1], Registries: []Registry{{Prefix: "*", Mirrors: []string{os.Args[2]}, SkipUpstream: true}}})
		if err == nil {
			_, err = s.Pull(context.Background(), os.Args[3])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	})
}

// Mirrors are tried in order (a 404 moves on to the next); an entry for
// the registry itself wins over "*".
func TestMirrorOrderAndPrefix(t *testing.T) {
	testharness.Privileged(t)
	empty1, full := startRegistry(t), startRegistry(t)
	img := buildImage(t, v1.Config{Cmd: []string{"sh"}}, layerOf(t, entry{name: "f", body: "x"}))
	full.Push(t, "app:1", img)
	s, err := Open(Options{Root: filepath.Join(t.TempDir(), "store"), Registries: []Registry{
		{Prefix: "*", Mirrors: []string{empty1.URL()}, SkipUpstream: true},
		{Prefix: "quay.io", Mirrors: []string{empty1.URL(), full.URL() + "/"}, SkipUpstream: true},
	}})
	must(t, err)
	defer s.Close()
	_, err = s.Pull(context.Background(), "docker.io/app:1")
	requireErr(t, err, ErrNotFound, "pull", "docker.io/app:1")
	got, err := s.Pull(context.Background(), "quay.io/app:1")
	must(t, err)
	if !slices.Equal(got.RepoTags, []string{"quay.io/app:1"}) {
		t.Fatalf("RepoTags %v", got.RepoTags)
	}
}

// GC running over and over while images are pulled never takes what a
// pull is adding: every pulled image mounts afterwards.
func TestGCDuringPulls(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	bb := busyboxLayer(t)
	for i := range 3 {
		reg.Push(t, fmt.Sprintf("app%d:1", i), buildImage(t, v1.Config{Cmd: []string{"sh"}}, bb,
			layerOf(t, entry{name: fmt.Sprintf("f%d", i), body: "x"})))
	}
	s := openStore(t, reg)
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.GC(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var pulls sync.WaitGroup
	for i := range 3 {
		pulls.Go(func() {
			if _, err := s.Pull(context.Background(), fmt.Sprintf("example.com/app%d:1", i)); err != nil {
				t.Error(err)
			}
		})
	}
	pulls.Wait()
	close(stop)
	gcs.Wait()
	for i := range 3 {
		id := fmt.Sprintf("gc%d", i)
		_, err := s.CreateRootfs(id, fmt.Sprintf("example.com/app%d:1", i))
		must(t, err)
		must(t, s.RemoveRootfs(id))
	}
}
