//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// go test -run XXX -bench 'Log|List|Stats' -benchtime 20x ./sandbox/
//
// Each prints its baseline beside it: output written straight into a
// file (the caller's Stdout) beside the log pipes; reading the state files
// beside List; one cgroup's statistics beside Stats of a pod.

// BenchmarkLogOutput: a container writes 64 MiB of 64-byte lines; the
// time from start to recorded exit, with the output in the file.
func BenchmarkLogOutput(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "logbench")
	cfg.NoPause = true
	sb := benchSandbox(b, cfg)
	const mib = 64
	for _, mode := range []string{"direct-file", "pipe-raw", "pipe-cri"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(mib << 20)
			for i := range b.N {
				spec := ctr(rootfs, fmt.Sprintf("%s-%d", mode, i), "spew", fmt.Sprint(mib))
				spec.LogPath = filepath.Join(cfg.RunDir, "out.log") // on the run dir's tmpfs
				switch mode {
				case "direct-file":
					f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
					if err != nil {
						b.Fatal(err)
					}
					defer f.Close()
					spec.Stdout, spec.Stderr = f, f
				case "pipe-cri":
					spec.LogFormat = LogCRI
				}
				if err := sb.CreateContainer(context.Background(), spec); err != nil {
					b.Fatal(err)
				}
				if err := sb.StartContainer(context.Background(), spec.Name); err != nil {
					b.Fatal(err)
				}
				if es, err := sb.Wait(context.Background(), spec.Name); err != nil || es.ExitCode != 0 {
					b.Fatal(err, es)
				}
				b.StopTimer()
				if err := sb.RemoveContainer(context.Background(), spec.Name); err != nil {
					b.Fatal(err)
				}
				os.Remove(spec.LogPath)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkList: List of a run directory with ten sandboxes of two
// containers each, beside just reading and decoding their state files.
func BenchmarkList(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "x")
	for i := range 10 {
		c := cfg
		c.ID = fmt.Sprintf("list%d", i)
		mustCreateContainers(b, benchSandbox(b, c), ctr(rootfs, "a", "sleep"), ctr(rootfs, "b", "sleep"))
	}
	b.Run("List", func(b *testing.B) {
		for range b.N {
			if l, err := List(cfg.RunDir); err != nil || len(l) != 10 {
				b.Fatal(err, len(l))
			}
		}
	})
	b.Run("read-state-files", func(b *testing.B) {
		for range b.N {
			ents, _ := os.ReadDir(cfg.RunDir)
			for _, e := range ents {
				if _, err := readState(filepath.Join(cfg.RunDir, e.Name())); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkStats: Stats of a pod with two containers (three cgroups)
// beside the cgroup package's Stats of the pod cgroup alone.
func BenchmarkStats(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	sb := benchSandbox(b, benchConfig(b, "statsbench"))
	mustCreateContainers(b, sb, ctr(rootfs, "a", "sleep"), ctr(rootfs, "b", "sleep"))
	b.Run("sandbox.Stats", func(b *testing.B) {
		for range b.N {
			if _, err := sb.Stats(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cgroup.Stats(pod)", func(b *testing.B) {
		for range b.N {
			if _, err := sb.cg.pod.Cgroup().Stats(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
