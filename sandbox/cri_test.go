//go:build linux

package sandbox

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// TestDestroyWhileCreatingContainers overlaps Destroy with CreateContainer
// calls (run it with -race): Destroy must not read the container table
// while a create writes it, and a container whose create was in flight
// must not outlive the sandbox (the leak check at the end sees any
// process, cgroup or mount left).
func TestDestroyWhileCreatingContainers(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	ctx := context.Background()
	for i := range 8 {
		sb, err := Create(ctx, testConfig(t, "race-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for j := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(j) * 10 * time.Millisecond)
				_ = sb.CreateContainer(ctx, ctr(rootfs, "c"+strconv.Itoa(j), "sleep"))
			}()
		}
		time.Sleep(time.Duration(i) * 10 * time.Millisecond)
		if err := sb.Destroy(ctx); err != nil {
			t.Fatalf("cycle %d: Destroy: %v", i, err)
		}
		wg.Wait()
		if _, err := os.Stat(sb.Dir()); !os.IsNotExist(err) {
			t.Fatalf("cycle %d: run directory left: %v", i, err)
		}
	}
}
