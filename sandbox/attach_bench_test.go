//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// BenchmarkLogCopy: a container writing 32 MiB into its CRI log, alone and
// with two attaches taking its output (io.Discard), side by side: what
// the taps cost the log's copier.
func BenchmarkLogCopy(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "logbench")
	cfg.NoPause = true
	sb := benchSandbox(b, cfg)
	ctx := context.Background()
	const mib = 32
	for _, attaches := range []int{0, 2} {
		b.Run(fmt.Sprintf("attaches=%d", attaches), func(b *testing.B) {
			b.SetBytes(mib << 20)
			for i := range b.N {
				name := fmt.Sprintf("spew%d-%d", attaches, i)
				spec := ctr(rootfs, name, "spew", fmt.Sprint(mib))
				spec.LogFormat = LogCRI
				if err := sb.CreateContainer(ctx, spec); err != nil {
					b.Fatal(err)
				}
				res := make(chan error, attaches)
				for range attaches {
					go func() { res <- sb.AttachContainer(ctx, name, AttachOptions{Stdout: io.Discard, Stderr: io.Discard}) }()
				}
				c, _ := sb.container("bench", name)
				for l := c.sink(); ; {
					l.tapMu.Lock()
					n := len(l.taps)
					l.tapMu.Unlock()
					if n == attaches {
						break
					}
				}
				if err := sb.StartContainer(ctx, name); err != nil {
					b.Fatal(err)
				}
				if _, err := sb.Wait(ctx, name); err != nil {
					b.Fatal(err)
				}
				for range attaches {
					if err := <-res; err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if err := sb.RemoveContainer(ctx, name); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
