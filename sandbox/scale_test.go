//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func TestHundredSandboxesConcurrently(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	base := testConfig(t, "x")
	const n = 100
	sbs := make([]*Sandbox, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := base
			cfg.ID = fmt.Sprintf("pod-%03d", i)
			cfg.NoPause = i%2 == 1 // half pinned-only
			sb, err := Create(context.Background(), cfg)
			if err != nil {
				errs[i] = err
				return
			}
			sbs[i] = sb
			for _, spec := range []ContainerSpec{ctr(rootfs, "a", "sleep"), ctr(rootfs, "b", "sleep")} {
				if errs[i] = sb.CreateContainer(context.Background(), spec); errs[i] != nil {
					return
				}
				if errs[i] = sb.StartContainer(context.Background(), spec.Name); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	running := 0
	for i, sb := range sbs {
		if errs[i] != nil {
			t.Errorf("sandbox %d: %v", i, errs[i])
		}
		if sb != nil && statusOf(sb, "a").State == ContainerRunning && statusOf(sb, "b").State == ContainerRunning {
			running++
		}
	}
	if running != n {
		t.Errorf("%d of %d pods running", running, n)
	}
	for i, sb := range sbs {
		if sb == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := sb.Stop(ctx, 0); err != nil {
				t.Errorf("stop %d: %v", i, err)
			}
			if err := sb.Destroy(ctx); err != nil {
				t.Errorf("destroy %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}
