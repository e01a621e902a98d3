//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// BenchmarkScale keeps PODKIT_SCALE_PODS pods (default 1,000) alive at
// once, each with the bare pause and one sleeping container, and reports:
//
//   - the time to create a pod and start its container (p50) for the
//     first 20 pods and for the last 20, and their ratio (the target: the
//     last within 1.5x of the first);
//   - one exec of busybox's static `true` in each of those pods'
//     containers (p50), as a probe runs one;
//   - memory per pod: the pauses' PSS, and everything the pods cost the
//     machine (MemAvailable's drop) less the containers' own PSS, which is
//     the workload's and not podkit's;
//   - a container alone, early and late: podkit's container cycle and
//     `crun run` of the same container, in a pod of their own
//     (scale_ref_bench_test.go), for what the host's growth costs a
//     runtime that is not podkit;
//   - sustained churn with all of them alive: create+destroy cycles of a
//     pod per second, beside the kernel's ceiling measured in the same run
//     (network namespaces created and torn down per second, counted until
//     the kernel has freed them).
//
// With PODKIT_SCALE_PINNED=1 the pods are pinned-only (Config.NoPause),
// as podrun makes a pod that does not share its PID namespace. It runs
// once whatever b.N is:
//
//	go test ./sandbox -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 30m
func BenchmarkScale(b *testing.B) {
	testharness.RequireRoot(b)
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("PODKIT_SCALE_PODS")); err == nil && v > 40 {
		n = v
	}
	waitNetnsFreed()
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "scale")
	cfg.NoPause = os.Getenv("PODKIT_SCALE_PINNED") == "1"
	ctx := context.Background()
	sbs := make([]*Sandbox, 0, n)
	defer func() {
		for _, sb := range sbs {
			_ = sb.Destroy(ctx)
		}
		cleanBenchCgroups()
	}()
	probe := staticTrue(b, rootfs)
	ref := newScaleRef(b, cfg, rootfs)
	defer ref.close()
	refPodkitFirst, refCrunFirst := ref.measure(b, 20)
	availBefore := memAvailable(b)
	createTimes := make([]time.Duration, 0, n)
	podTimes := make([]time.Duration, 0, n)
	var probes scaleProbes
	for i := range n {
		cfg.ID = fmt.Sprintf("scale-%04d", i)
		t0 := time.Now()
		sb, err := Create(ctx, cfg)
		if err != nil {
			b.Fatalf("pod %d: %v", i, err)
		}
		podTimes = append(podTimes, time.Since(t0))
		sbs = append(sbs, sb)
		if err := sb.CreateContainer(ctx, ctr(rootfs, "app", "sleep")); err != nil {
			b.Fatalf("pod %d: %v", i, err)
		}
		if err := sb.StartContainer(ctx, "app"); err != nil {
			b.Fatalf("pod %d: %v", i, err)
		}
		createTimes = append(createTimes, time.Since(t0))
		if i == 19 || i == n-1 {
			probes.measure(b, sbs[i-19:], cfg.CgroupParent, probe)
		}
	}
	refPodkitLast, refCrunLast := ref.measure(b, 20)
	runtime.GC()
	time.Sleep(time.Second) // let the kernel settle freed pages before reading MemAvailable
	availAfter := memAvailable(b)
	first, last := p50(createTimes[:20]), p50(createTimes[n-20:])
	b.ReportMetric(ms(first), "create-p50-first20-ms")
	b.ReportMetric(ms(last), "create-p50-last20-ms")
	b.ReportMetric(float64(last)/float64(first), "last/first")
	b.ReportMetric(ms(p50(podTimes[:20])), "pod-p50-first20-ms")
	b.ReportMetric(ms(p50(podTimes[n-20:])), "pod-p50-last20-ms")
	probes.report(b)
	b.ReportMetric(ms(refPodkitFirst), "container-cycle-p50-first-ms")
	b.ReportMetric(ms(refPodkitLast), "container-cycle-p50-last-ms")
	if refCrunFirst > 0 {
		b.ReportMetric(ms(refCrunFirst), "crun-run-p50-first-ms")
		b.ReportMetric(ms(refCrunLast), "crun-run-p50-last-ms")
	}
	b.ReportMetric(float64(mountCount(b)), "host-mounts")
	b.ReportMetric(float64(threadCount(b)), "manager-threads")

	var pausePSS, appPSS int64
	for _, sb := range sbs {
		pausePSS += pssKiB(sb.PausePid())
		appPSS += pssKiB(statusOf(sb, "app").Pid)
	}
	b.ReportMetric(float64(pausePSS)/float64(n), "pause-pss-kB/pod")
	b.ReportMetric(float64(availBefore-availAfter-appPSS)/float64(n), "podkit-kB/pod")
	b.ReportMetric(float64(appPSS)/float64(n), "container-pss-kB/pod")

	churn := churnRate(b, cfg, 5*time.Second)
	b.ReportMetric(churn, "churn-pods/s")
	waitNetnsFreed() // the churn's last namespaces are freed after their destroy returns
	b.ReportMetric(netnsCeiling(b, 5*time.Second), "kernel-netns/s")
}

// scaleProbes holds the kernel's floors and the exec times, measured
// after the first 20 pods and after the last 20. They are measured once a
// block of 20 timed creates is done, never between them: a mount
// namespace floor copies the host's mount table (5,000 mounts with 1,000
// pinned pods), and its teardown after the thread exits, and a network
// namespace's, would land on the next timed create. Interleaved, they
// doubled the last creates' times (BENCHMARKS.md, "scale").
type scaleProbes struct {
	floors, mntFloors, cgFloors, execTimes []time.Duration
}

// measure takes one of each probe per pod in pods (a block of 20).
func (p *scaleProbes) measure(b *testing.B, pods []*Sandbox, cgroupParent string, probe []string) {
	for _, sb := range pods {
		p.floors = append(p.floors, nsFloor(b, unix.CLONE_NEWNET|unix.CLONE_NEWIPC|unix.CLONE_NEWUTS))
		p.mntFloors = append(p.mntFloors, nsFloor(b, unix.CLONE_FS|unix.CLONE_NEWNS))
		p.cgFloors = append(p.cgFloors, cgroupFloor(b, cgroupParent))
		p.execTimes = append(p.execTimes, timeExec(b, sb, probe))
	}
}

func (p *scaleProbes) report(b *testing.B) {
	b.ReportMetric(ms(p50(p.floors[:20])), "ns-floor-p50-first20-ms")
	b.ReportMetric(ms(p50(p.floors[20:])), "ns-floor-p50-last20-ms")
	b.ReportMetric(ms(p50(p.mntFloors[:20])), "mntns-floor-p50-first20-ms")
	b.ReportMetric(ms(p50(p.mntFloors[20:])), "mntns-floor-p50-last20-ms")
	b.ReportMetric(ms(p50(p.cgFloors[:20])), "cgroup-floor-p50-first20-ms")
	b.ReportMetric(ms(p50(p.cgFloors[20:])), "cgroup-floor-p50-last20-ms")
	b.ReportMetric(ms(p50(p.execTimes[:20])), "exec-p50-first20-ms")
	b.ReportMetric(ms(p50(p.execTimes[20:])), "exec-p50-last20-ms")
}

// nsFloor times unshare(flags) on a throwaway thread (the namespaces are
// torn down when it exits).
func nsFloor(b *testing.B, flags int) time.Duration {
	res := make(chan time.Duration)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		t0 := time.Now()
		if err := unix.Unshare(flags); err != nil {
			b.Error(err)
		}
		res <- time.Since(t0)
	}()
	return <-res
}

// cgroupFloor times the kernel's part of a cgroup: mkdir and rmdir of a
// sibling of the pods under parent in every hierarchy (cgroup v1: one
// directory per mounted hierarchy; v2: the unified one).
func cgroupFloor(b *testing.B, parent string) time.Duration {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent)
	if len(dirs) == 0 {
		dirs = []string{filepath.Join("/sys/fs/cgroup", parent)}
	}
	t0 := time.Now()
	for _, d := range dirs {
		if err := os.Mkdir(filepath.Join(d, "floor"), 0o755); err != nil {
			b.Error(err)
		}
	}
	for _, d := range dirs {
		if err := os.Remove(filepath.Join(d, "floor")); err != nil {
			b.Error(err)
		}
	}
	return time.Since(t0)
}

// threadCount is the number of OS threads of this process (the manager).
// timeExec times one exec of args in the pod's app container, as a
// probe would run it.
func timeExec(b *testing.B, sb *Sandbox, args []string) time.Duration {
	t0 := time.Now()
	es, err := sb.Exec(context.Background(), "app", ExecSpec{Args: args})
	if err != nil || es.ExitCode != 0 {
		b.Fatalf("exec in %s: %v %+v", sb.ID(), err, es)
	}
	return time.Since(t0)
}

func threadCount(b *testing.B) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	return int(meminfoKiB(string(data), "Threads:"))
}

func mountCount(b *testing.B) int {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		b.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// churnRate creates and destroys pods (cfg's, no container) for d
// and returns cycles per second.
func churnRate(b *testing.B, cfg Config, d time.Duration) float64 {
	ctx := context.Background()
	start, cycles := time.Now(), 0
	for time.Since(start) < d {
		cfg.ID = fmt.Sprintf("churn-%d", cycles)
		sb, err := Create(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := sb.Destroy(ctx); err != nil {
			b.Fatal(err)
		}
		cycles++
	}
	return float64(cycles) / time.Since(start).Seconds()
}

// netnsCeiling creates network namespaces on a throwaway thread, each
// replacing the last (which the kernel then tears down), for d, and
// returns how many per second the kernel created and freed: the clock
// stops once the net_namespace slab is back to where it started.
func netnsCeiling(b *testing.B, d time.Duration) float64 {
	base, ok := slabActive("net_namespace")
	start := time.Now()
	done := make(chan int)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		count := 0
		for time.Since(start) < d {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				break
			}
			count++
		}
		done <- count
	}()
	count := <-done
	for ok && time.Since(start) < d+time.Minute {
		if now, _ := slabActive("net_namespace"); now <= base+8 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !ok {
		b.Log("no net_namespace line in /proc/slabinfo: the ceiling counts creation only")
	}
	return float64(count) / time.Since(start).Seconds()
}

// waitNetnsFreed waits (up to a minute) until the kernel has stopped
// freeing network namespaces, so that an earlier run's teardown of its
// pods does not land on this run's first creates.
func waitNetnsFreed() {
	last, ok := slabActive("net_namespace")
	for deadline := time.Now().Add(time.Minute); ok && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now, _ := slabActive("net_namespace")
		if now >= last {
			return
		}
		last = now
	}
}

func slabActive(name string) (int, bool) {
	f, err := os.Open("/proc/slabinfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == name {
			v, err := strconv.Atoi(fields[1])
			return v, err == nil
		}
	}
	return 0, false
}

func memAvailable(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		b.Fatal(err)
	}
	return meminfoKiB(string(data), "MemAvailable:")
}

// pssKiB is a process's proportional set size (0 if it is gone).
func pssKiB(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	return meminfoKiB(string(data), "Pss:")
}

func meminfoKiB(text, key string) int64 {
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

func p50(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
