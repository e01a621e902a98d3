//go:build linux

package image

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/podkit/podkit/internal/testharness"
)

// benchImage is busybox plus four layers of 100 incompressible 16 KiB
// files each (about 8 MB in all).
func benchImage(b *testing.B) v1.Image {
	layers := []v1.Layer{busyboxLayer(b)}
	rng := rand.New(rand.NewPCG(1, 2))
	for l := range 4 {
		ents := []entry{{name: fmt.Sprintf("data%d", l), dir: true}}
		for f := range 100 {
			data := make([]byte, 16<<10)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			ents = append(ents, entry{name: fmt.Sprintf("data%d/f%03d", l, f), data: data})
		}
		layers = append(layers, layerOf(b, ents...))
	}
	return buildImage(b, v1.Config{Cmd: []string{"sh"}}, layers...)
}

// BenchmarkImage pulls and unpacks a 5-layer image from the in-process
// registry into a fresh store, sets up one container rootfs (overlay
// mount + unmount), and, as the baseline in the same run, does the pull and
// unpack with `skopeo copy` + `umoci unpack` (Debian's skopeo and umoci).
// Run: go test ./examples/internal/image -run '^$' -bench . -benchtime 5x
func BenchmarkImage(b *testing.B) {
	testharness.Privileged(b)
	reg := startRegistry(b)
	reg.Push(b, "bench/app:1", benchImage(b))
	ref := "example.com/bench/app:1"

	b.Run("podkit-pull+unpack", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			s := openStore(b, reg)
			if _, err := s.Pull(context.Background(), ref); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("podkit-rootfs-per-container", func(b *testing.B) {
		s := openStore(b, reg)
		if _, err := s.Pull(context.Background(), ref); err != nil {
			b.Fatal(err)
		}
		for i := 0; b.Loop(); i++ {
			id := fmt.Sprintf("c%d", i)
			if _, err := s.CreateRootfs(id, ref); err != nil {
				b.Fatal(err)
			}
			if err := s.RemoveRootfs(id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-skopeo-copy+umoci-unpack", func(b *testing.B) {
		for _, tool := range []string{"skopeo", "umoci"} {
			if _, err := exec.LookPath(tool); err != nil {
				b.Skipf("baseline skipped: %s not installed (apt-get install skopeo umoci)", tool)
			}
		}
		for i := 0; b.Loop(); i++ {
			dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				b.Fatal(err)
			}
			run(b, "skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
				"docker://"+reg.Host+"/bench/app:1", "oci:"+dir+"/oci:app")
			run(b, "umoci", "unpack", "--image", dir+"/oci:app", dir+"/bundle")
			os.RemoveAll(dir)
		}
	})
}

func run(b *testing.B, name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v: %s", name, err, out)
	}
}
