//go:build linux

package sandbox

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func TestStats(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "stats")
	cfg.Resources.MemoryLimit = 512 << 20
	sb := mustCreate(t, cfg)
	hog := ctr(rootfs, "hog", "hog", "32", "/tmp/cache", "16")
	hog.Resources.MemoryLimit = 256 << 20
	run(t, sb, hog)
	run(t, sb, ctr(rootfs, "idle", "sleep"))
	eventually(t, "hog ready", func() bool { return strings.Contains(logOf(t, sb, "hog"), "ready") })

	first, err := sb.ContainerStats("hog")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	ps, err := sb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if ps.ID != "stats" || len(ps.Containers) != 2 || ps.Containers[0].Name != "hog" || ps.Containers[1].Name != "idle" {
		t.Fatalf("pod stats %+v", ps)
	}
	h := ps.Containers[0]
	t.Logf("hog: cpu %v (+%v, %d nanocores), usage %d MiB, working set %d MiB, pids %d",
		h.CPU, h.CPU-first.CPU, h.NanoCores(first.Usage), h.MemoryUsage>>20, h.MemoryWorkingSet>>20, h.Pids)
	if !h.Timestamp.After(first.Timestamp) || h.CPU-first.CPU < 30*time.Millisecond || h.NanoCores(first.Usage) == 0 {
		t.Errorf("hog CPU did not grow: %v -> %v", first.CPU, h.CPU)
	}
	if h.MemoryWorkingSet < 30<<20 || h.MemoryWorkingSet > h.MemoryUsage || h.MemoryLimit != 256<<20 {
		t.Errorf("hog memory: %+v", h.Usage)
	}
	// The 16 MiB written to a file are page cache: charged as usage, on
	// the inactive list at first, so not in the working set.
	if h.MemoryUsage-h.MemoryWorkingSet < 4<<20 {
		t.Errorf("hog: usage %d, working set %d: page cache not subtracted", h.MemoryUsage, h.MemoryWorkingSet)
	}
	if h.Pids < 1 || ps.Containers[1].Pids < 1 {
		t.Errorf("pids %d %d", h.Pids, ps.Containers[1].Pids)
	}
	// The pod cgroup covers the pause and both containers.
	if ps.CPU < h.CPU || ps.MemoryUsage < h.MemoryUsage || ps.Pids < h.Pids+ps.Containers[1].Pids+1 || ps.MemoryLimit != 512<<20 {
		t.Errorf("pod usage %+v below its containers'", ps.Usage)
	}
	// Loopback traffic between two containers of the pod is counted on
	// the pod's lo.
	run(t, sb, ctr(rootfs, "server", "serve", "8090"))
	eventually(t, "listening", func() bool { return strings.Contains(logOf(t, sb, "server"), "listening") })
	run(t, sb, ctr(rootfs, "client", "get", "8090"))
	if es := waitExit(t, sb, "client"); es.ExitCode != 0 {
		t.Fatalf("client: %+v %q", es, logOf(t, sb, "client"))
	}
	ps, err = sb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var lo InterfaceStats
	for _, is := range ps.Network {
		if is.Name == "lo" {
			lo = is
		}
	}
	if lo.RxBytes == 0 || lo.TxBytes == 0 || lo.RxPackets == 0 {
		t.Fatalf("pod network %+v", ps.Network)
	}
	if _, err := sb.ContainerStats("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stats of a missing container: %v", err)
	}
}
