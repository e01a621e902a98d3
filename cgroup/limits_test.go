//go:build linux

package cgroup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// TestLimitsWritten: Kubernetes-unit resources land in the kernel files of
// the host's mode, converted as kubelet converts them, and Update changes
// them live.
func TestLimitsWritten(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	swap := int64(0)
	r := &Resources{
		Memory: &Memory{Limit: 256 << 20, Request: 64 << 20, Swap: &swap},
		CPU:    &CPU{RequestMilli: 250, LimitMilli: 500},
		CPUSet: &CPUSet{CPUs: "0"},
		Pids:   &Pids{Max: 77},
		IO:     &IO{Weight: 500},
	}
	pod := newTestPod(t, s, "limits", nil)
	// IO weight needs a weight-aware I/O scheduler (BFQ); on a kernel
	// without one the limit must be refused as unsupported, nothing made.
	ioWeight := true
	if _, err := pod.AddContainer("io", &Resources{IO: &IO{Weight: 500}}); errors.Is(err, ErrUnsupported) {
		t.Logf("this kernel has no I/O weight (%v): checking the refusal, the rest without it", err)
		ioWeight, r.IO = false, nil
		if _, err := pod.Container("io"); err == nil {
			t.Error("a refused container was left")
		}
	} else if err != nil {
		t.Fatalf("AddContainer(io): %v", err)
	} else if err := pod.RemoveContainer(context.Background(), "io"); err != nil {
		t.Fatal(err)
	}
	app, err := pod.AddContainer("app", r)
	if err != nil {
		t.Fatalf("AddContainer: %v", err)
	}
	v2 := s.Mode() == ModeUnified
	var want map[[2]string]string
	if v2 {
		want = map[[2]string]string{
			{"", "memory.max"}: "268435456", {"", "memory.low"}: "67108864", {"", "memory.swap.max"}: "0",
			{"", "cpu.weight"}: "10", {"", "cpu.max"}: "50000 100000", {"", "cpuset.cpus"}: "0", {"", "pids.max"}: "77",
			{"", "io.weight"}: "default 500",
		}
	} else {
		want = map[[2]string]string{
			{"memory", "memory.limit_in_bytes"}: "268435456", {"memory", "memory.soft_limit_in_bytes"}: "67108864",
			{"memory", "memory.memsw.limit_in_bytes"}: "268435456",
			{"cpu", "cpu.shares"}:                     "256", {"cpu", "cpu.cfs_quota_us"}: "50000", {"cpu", "cpu.cfs_period_us"}: "100000",
			{"cpuset", "cpuset.cpus"}: "0", {"pids", "pids.max"}: "77", {"blkio", "blkio.bfq.weight"}: "59",
		}
	}
	if !ioWeight {
		delete(want, [2]string{"", "io.weight"})
		delete(want, [2]string{"blkio", "blkio.bfq.weight"})
	}
	for k, v := range want {
		if got := read(t, app, k[0], k[1]); got != v {
			t.Errorf("%s = %q, want %q", k[1], got, v)
		}
	}
	period := 50 * time.Millisecond
	if err := app.Update(&Resources{CPU: &CPU{RequestMilli: 1000, LimitMilli: 2000, Period: &period}, Pids: &Pids{}}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if v2 {
		want = map[[2]string]string{{"", "cpu.max"}: "100000 50000", {"", "cpu.weight"}: "39", {"", "pids.max"}: "max"}
	} else {
		want = map[[2]string]string{{"cpu", "cpu.cfs_quota_us"}: "100000", {"cpu", "cpu.cfs_period_us"}: "50000",
			{"cpu", "cpu.shares"}: "1024", {"pids", "pids.max"}: "max"}
	}
	for k, v := range want {
		if got := read(t, app, k[0], k[1]); got != v {
			t.Errorf("after Update %s = %q, want %q", k[1], got, v)
		}
	}
	// An empty cpuset means "the parent's": v2 inherits, v1 copies.
	if err := app.Update(&Resources{CPUSet: &CPUSet{}}); err != nil {
		t.Fatalf("Update cpuset: %v", err)
	}
	parentCPUs := ""
	if !v2 {
		parentCPUs, _ = readFile(parentDir(app.Paths()["cpuset"]) + "/cpuset.effective_cpus")
	}
	if got := read(t, app, "cpuset", "cpuset.cpus"); got != strings.TrimSpace(parentCPUs) {
		t.Errorf("cpuset.cpus after reset = %q, want %q", got, strings.TrimSpace(parentCPUs))
	}
	// Raising the limit above the current memory+swap limit needs the v1
	// write order reversed; v2 has independent files.
	if err := app.Update(&Resources{Memory: &Memory{Limit: 512 << 20, Swap: &swap}}); err != nil {
		t.Fatalf("Update memory up: %v", err)
	}
	if err := app.Update(&Resources{Memory: &Memory{Limit: 256 << 20, Swap: &swap}}); err != nil {
		t.Fatalf("Update memory down: %v", err)
	}
	st, err := app.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Memory.Limit != 256<<20 || st.Pids.Max != NoLimit {
		t.Errorf("Stats limits: memory %d pids %d", st.Memory.Limit, st.Pids.Max)
	}
}

// TestBadInput: invalid resources, escaping paths and deleted cgroups give
// typed errors and leave nothing behind.
func TestBadInput(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.NewPod(PodConfig{Parent: testParent, ID: "..", Resources: nil}); !errors.Is(err, ErrEscape) {
				t.Errorf("pod ..: %v", err)
			}
			if _, err := s.NewPod(PodConfig{Parent: testParent + "/../../sys", ID: "x"}); !errors.Is(err, ErrEscape) {
				t.Errorf("parent with ..: %v", err)
			}
			if _, err := s.Create(testParent+"/a/../../../etc", nil); !errors.Is(err, ErrEscape) {
				t.Errorf("Create with ..: %v", err)
			}
			if _, err := s.Open(testParent + "/../x"); !errors.Is(err, ErrEscape) {
				t.Errorf("Open with ..: %v", err)
			}
			bad := &Resources{Memory: &Memory{Limit: 10 << 20, Request: 20 << 20}}
			var re *ResourceError
			if _, err := s.NewPod(PodConfig{Parent: testParent, ID: "p", Resources: bad}); !errors.As(err, &re) || !errors.Is(err, ErrInvalidResources) {
				t.Errorf("limit below request: %v", err)
			}
			assertGone(t, s, testParent)
			pod := newTestPod(t, s, "bad", nil)
			if _, err := pod.AddContainer("../escape", nil); !errors.Is(err, ErrInvalidName) {
				t.Errorf("container ../escape: %v", err)
			}
			if _, err := pod.AddContainer("..", nil); !errors.Is(err, ErrEscape) {
				t.Errorf("container ..: %v", err)
			}
			if s.Mode() != ModeUnified || name != "unified-empty" {
				_, err := pod.AddContainer("cpus", &Resources{CPUSet: &CPUSet{CPUs: "0-4095"}})
				if !errors.Is(err, ErrInvalidResources) && !errors.Is(err, ErrUnsupported) {
					t.Errorf("unknown cpuset: %v", err)
				}
				if _, err := s.Open(pod.Cgroup().Path() + "/cpus"); !errors.Is(err, ErrNotExist) {
					t.Errorf("failed container left behind: %v", err)
				}
			}
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := app.Update(&Resources{Pids: &Pids{Max: -1}}); !errors.Is(err, ErrInvalidResources) {
				t.Errorf("Update negative pids: %v", err)
			}
			ctx := ctx30(t)
			if err := app.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			h := startHelper(t, "sleeper")
			var ce *Error
			if err := app.AddProcess(h.pid()); !errors.Is(err, ErrNotExist) || !errors.As(err, &ce) {
				t.Errorf("AddProcess to deleted: %v", err)
			}
			if err := app.Update(&Resources{}); !errors.Is(err, ErrNotExist) {
				t.Errorf("Update deleted: %v", err)
			}
			if _, err := app.Stats(); !errors.Is(err, ErrNotExist) {
				t.Errorf("Stats deleted: %v", err)
			}
			if _, err := app.OOMKills(); !errors.Is(err, ErrNotExist) || !errors.As(err, &ce) || ce.Op != "oomkills" {
				t.Errorf("OOMKills deleted: %v", err)
			}
			if _, err := s.Open(app.Path()); !errors.Is(err, ErrNotExist) {
				t.Errorf("Open deleted: %v", err)
			}
			if _, err := s.Create(pod.Cgroup().Path(), nil); !errors.Is(err, ErrExist) {
				t.Errorf("Create existing: %v", err)
			}
			w, err := NewOOMWatcher()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(app); !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrUnsupported) {
				t.Errorf("watch deleted: %v", err)
			}
			w.Close()
			if err := w.Add(pod.Pause()); !errors.Is(err, ErrClosed) {
				t.Errorf("Add after Close: %v", err)
			}
		})
	}
}

// TestHugePages: hugetlb limits land in hugetlb.<size>.max (v2) or
// .limit_in_bytes (v1); without the controller (this v1 host has none) the
// request fails with ErrUnsupported and leaves nothing behind.
func TestHugePages(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "huge", nil)
	r := &Resources{HugePages: map[string]int64{"2MB": 4 << 20}}
	have := s.l.v1["hugetlb"] != ""
	if s.v2() {
		avail, err := s.v2Available()
		if err != nil {
			t.Fatal(err)
		}
		have = avail["hugetlb"]
	}
	app, err := pod.AddContainer("app", r)
	if !have {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("hugetlb without the controller: %v", err)
		}
		if _, err := s.Open(pod.Cgroup().Path() + "/app"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("failed container left behind: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("AddContainer: %v", err)
	}
	file := "hugetlb.2MB.limit_in_bytes"
	if s.v2() {
		file = "hugetlb.2MB.max"
	}
	if got := read(t, app, "hugetlb", file); got != "4194304" {
		t.Fatalf("%s = %q", file, got)
	}
}
