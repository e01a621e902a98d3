//go:build linux

package cgroup

import (
	"context"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// The benchmarks compare podkit with raw cgroupfs writes doing the same
// work (same hierarchies, same directories, same limit files) and, for the
// create/limits/add/remove cycle, with containerd/cgroups, all in one run:
//
//	go test -run '^$' -bench . -benchtime 300x ./cgroup/
//
// Phase costs are reported as extra metrics (create-us, add-us, kill-us,
// delete-us per op). Spawning and reaping the process that gets added are
// outside the timer.

var benchLimits = &Resources{
	Memory: &Memory{Limit: 256 << 20},
	CPU:    &CPU{RequestMilli: 250, LimitMilli: 500},
	Pids:   &Pids{Max: 77},
}

var longNap = unix.Timespec{Sec: 60}

// sleepForever runs in a raw-cloned child: nothing but raw system calls.
//
//go:nosplit
func sleepForever() {
	for i := 0; i < 10; i++ {
		syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&longNap)), 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// cycleEnv is benchEnv and a sleeper (spawnSleeper) that a cycle
// benchmark moves between cgroups, reaped when the benchmark ends.
func cycleEnv(b *testing.B) (*System, Cgroup, int) {
	s, hold := benchEnv(b)
	pid := spawnSleeper(b)
	b.Cleanup(func() { reap(pid) })
	return s, hold, pid
}

// benchPod creates the pod "bench" under testParent with one container,
// "app", limited by benchLimits.
func benchPod(b *testing.B, s *System) (*Pod, Cgroup) {
	pod, err := s.NewPod(PodConfig{Parent: testParent, ID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	app, err := pod.AddContainer("app", benchLimits)
	if err != nil {
		b.Fatal(err)
	}
	return pod, app
}

// spawnSleeper forks a child of the benchmark process that only sleeps
// (far cheaper than exec'ing a helper).
func spawnSleeper(b *testing.B) int {
	r, e := rawFork()
	if e != 0 {
		b.Fatalf("fork: %v", e)
	}
	if r == 0 {
		sleepForever()
	}
	return int(r)
}

func reap(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, 0, nil)
}

// phases accumulates per-phase wall time.
type phases struct {
	names []string
	total map[string]time.Duration
	last  time.Time
}

func newPhases(names ...string) *phases {
	return &phases{names: names, total: map[string]time.Duration{}}
}
func (p *phases) start() { p.last = time.Now() }
func (p *phases) mark(name string) {
	now := time.Now()
	p.total[name] += now.Sub(p.last)
	p.last = now
}
func (p *phases) report(b *testing.B) {
	for _, n := range p.names {
		b.ReportMetric(float64(p.total[n].Microseconds())/float64(b.N), n+"-us/op")
	}
}

// benchEnv prepares testParent (with the v2 controllers enabled) and a
// holding leaf, and removes everything at the end.
func benchEnv(b *testing.B) (*System, Cgroup) {
	testharness.Privileged(b)
	s, err := Host()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Remove(context.Background(), testParent); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	hold, err := s.Create(testParent+"/hold", &Resources{Pids: &Pids{}, Memory: &Memory{}, CPU: &CPU{}})
	if err != nil {
		b.Fatal(err)
	}
	return s, hold
}

// BenchmarkPodLifecycle: create pod + pause leaf + container leaf with
// limits, add a process, kill-all (waiting until empty), delete.
func BenchmarkPodLifecycle(b *testing.B) {
	b.Run("podkit", func(b *testing.B) {
		s, _ := benchEnv(b)
		ctx := context.Background()
		ph := newPhases("create", "add", "kill", "delete")
		for b.Loop() {
			b.StopTimer()
			pid := spawnSleeper(b)
			b.StartTimer()
			ph.start()
			pod, app := benchPod(b, s)
			ph.mark("create")
			if err := app.AddProcess(pid); err != nil {
				b.Fatal(err)
			}
			ph.mark("add")
			if err := pod.Cgroup().KillAll(ctx); err != nil {
				b.Fatal(err)
			}
			ph.mark("kill")
			if err := pod.Delete(ctx); err != nil {
				b.Fatal(err)
			}
			ph.mark("delete")
			b.StopTimer()
			reap(pid)
			b.StartTimer()
		}
		ph.report(b)
	})
	b.Run("raw-cgroupfs", func(b *testing.B) {
		s, _ := benchEnv(b)
		r := newRaw(b, s)
		ph := newPhases("create", "add", "kill", "delete")
		for b.Loop() {
			b.StopTimer()
			pid := spawnSleeper(b)
			b.StartTimer()
			ph.start()
			r.create(b)
			ph.mark("create")
			r.add(b, pid)
			ph.mark("add")
			r.kill(b)
			ph.mark("kill")
			r.remove(b)
			ph.mark("delete")
			b.StopTimer()
			reap(pid)
			b.StartTimer()
		}
		ph.report(b)
	})
}

// BenchmarkCreateAddRemove is the cycle the issue quotes reference numbers
// for: create pod + container with limits, add a process, move it out,
// remove the cgroups — podkit, raw cgroupfs and containerd/cgroups.
func BenchmarkCreateAddRemove(b *testing.B) {
	b.Run("podkit", func(b *testing.B) {
		s, hold, pid := cycleEnv(b)
		ctx := context.Background()
		for b.Loop() {
			pod, app := benchPod(b, s)
			if err := app.AddProcess(pid); err != nil {
				b.Fatal(err)
			}
			if err := hold.AddProcess(pid); err != nil {
				b.Fatal(err)
			}
			if err := pod.Delete(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-cgroupfs", func(b *testing.B) {
		s, hold, pid := cycleEnv(b)
		r := newRaw(b, s)
		for b.Loop() {
			r.create(b)
			r.add(b, pid)
			if err := hold.AddProcess(pid); err != nil {
				b.Fatal(err)
			}
			r.remove(b)
		}
	})
	b.Run("containerd-cgroups", func(b *testing.B) {
		s, hold, pid := cycleEnv(b)
		cd := newContainerd(b, s)
		for b.Loop() {
			cd.cycle(b, pid, hold)
		}
	})
}
