//go:build linux

package pause_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// Run: go test -run '^$' -bench . -benchtime 2000x ./pause/   (see BENCHMARKS.md)

var (
	cOnce  sync.Once
	cDir   string
	cErr   error
	cNote  = "gcc not found: C baselines skipped"
	cBuilt bool
)

// cBinaries builds testdata/cpause.c and testdata/floor.c with gcc -static
// -Os once per run, or says why not.
func cBinaries(b *testing.B) (cpause, floor string) {
	cOnce.Do(func() {
		gcc, err := exec.LookPath("gcc")
		if err != nil {
			return
		}
		// One fixed directory, rebuilt each run, so runs leave no temp dirs behind.
		cDir = filepath.Join(os.TempDir(), "podkit-cbench")
		if cErr = os.MkdirAll(cDir, 0o755); cErr != nil {
			cNote = "C baselines skipped: " + cErr.Error()
			return
		}
		for _, n := range []string{"cpause", "floor"} {
			out, err := exec.Command(gcc, "-static", "-Os", "-s", "-o", filepath.Join(cDir, n),
				filepath.Join("testdata", n+".c")).CombinedOutput()
			if err != nil {
				cNote = "gcc -static failed (no static libc?): C baselines skipped: " + string(out)
				return
			}
		}
		cBuilt = true
	})
	if !cBuilt {
		b.Skip(cNote)
	}
	return filepath.Join(cDir, "cpause"), filepath.Join(cDir, "floor")
}

type binary struct {
	name, path string
	env        []string // nil: pause.Start's default
}

func binaries(b *testing.B) []binary {
	goPause := testharness.PauseBinaryGo(b)
	var bins []binary
	if linked := testharness.PauseBinary(b); isBare(linked) {
		bins = append(bins, binary{"bare-pause", linked, nil})
	}
	bins = append(bins,
		binary{"go-pause", goPause, nil},
		binary{"go-pause-untuned-env", goPause, []string{}},
		binary{"floor-go-static", testharness.BuildStatic(b, "github.com/podkit/podkit/pause/internal/readynoop"), nil},
	)
	if _, err := exec.LookPath("gcc"); err == nil {
		cpause, floor := cBinaries(b)
		bins = append(bins, binary{"c-pause", cpause, nil}, binary{"floor-c-static", floor, nil})
	}
	return bins
}

// BenchmarkSpawnReady: pause.Start (fork+exec, wait for the ready byte) of
// each binary, in the caller's namespaces and in new net+ipc+uts+pid ones.
// Stopping and reaping happen outside the timer.
func BenchmarkSpawnReady(b *testing.B) {
	testharness.RequireRoot(b)
	for _, ns := range []struct {
		name  string
		flags uintptr
	}{{"host-ns", 0}, {"new-net-ipc-uts-pid", pause.PodNamespaces}} {
		for _, bin := range binaries(b) {
			b.Run(bin.name+"/"+ns.name, func(b *testing.B) {
				o := pause.Options{Path: bin.path, Env: bin.env, Cloneflags: ns.flags}
				ctx := context.Background()
				for b.Loop() {
					p, err := pause.Start(ctx, o)
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					p.Signal(syscall.SIGKILL)
					p.Wait()
					p.Close()
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkIdleRSS reports the memory of an idle pause (PID 1 of new
// namespaces) from /proc/PID/status; ns/op is just the cost of reading it.
func BenchmarkIdleRSS(b *testing.B) {
	testharness.RequireRoot(b)
	for _, bin := range binaries(b) {
		if strings.HasPrefix(bin.name, "floor") {
			continue
		}
		b.Run(bin.name, func(b *testing.B) {
			p, err := pause.Start(context.Background(),
				pause.Options{Path: bin.path, Env: bin.env, Cloneflags: pause.PodNamespaces})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { p.Signal(syscall.SIGKILL); p.Wait(); p.Close() }()
			var st map[string]int
			for b.Loop() {
				st = statusKB(b, p.Pid)
			}
			b.ReportMetric(float64(st["VmRSS"]), "rss-kB")
			b.ReportMetric(float64(st["RssAnon"]), "anon-kB")
			b.ReportMetric(float64(st["RssFile"]), "file-kB")
			b.ReportMetric(float64(st["Threads"]), "threads")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func statusKB(b *testing.B, pid int) map[string]int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if f := strings.Fields(v); ok && len(f) > 0 {
			m[k], _ = strconv.Atoi(f[0])
		}
	}
	return m
}

// BenchmarkReapBurst: 10,000 orphans, re-parented to the pause (PID 1 of a
// new PID namespace) and blocked on one pipe, are released at once; ns/op is
// the time from the release until the pause has reported every reap on its
// events fd (one line each, for the Go and the C pause alike). Making the
// orphans takes seconds, so each op is long and b.N stays 1.
func BenchmarkReapBurst(b *testing.B) {
	testharness.RequireRoot(b)
	const n = 10000
	for _, bin := range binaries(b) {
		if strings.HasPrefix(bin.name, "floor") {
			continue
		}
		b.Run(bin.name, func(b *testing.B) {
			var reap, cpu time.Duration
			for i := 0; i < b.N; i++ {
				r, c := reapBurst(b, bin, n)
				reap, cpu = reap+r, cpu+c
			}
			b.ReportMetric(float64(reap.Nanoseconds())/float64(b.N), "ns/op")
			b.ReportMetric(float64(reap.Microseconds())/float64(b.N)/n, "us/orphan")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "pause-cpu-ms")
		})
	}
}

// reapBurst returns the wall time of the burst and the CPU time (user+system)
// the pause spent in it.
func reapBurst(b *testing.B, bin binary, n int) (time.Duration, time.Duration) {
	evR, evW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer evR.Close()
	p, err := pause.Start(context.Background(),
		pause.Options{Path: bin.path, Env: bin.env, Cloneflags: pause.PodNamespaces, Events: evW})
	evW.Close()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { p.Signal(syscall.SIGKILL); p.Wait(); p.Close() }()
	said, release := holdOrphans(b, p, n)
	defer release()
	if !strings.HasPrefix(said, "done") {
		b.Fatalf("orphan maker: %q", said)
	}
	cpu0 := cpuTime(b, p.Pid)
	t0 := time.Now()
	release() // all n exit now
	countLines(b, evR, n)
	return time.Since(t0), cpuTime(b, p.Pid) - cpu0
}

// cpuTime is utime+stime of pid (all its threads) from /proc/PID/stat.
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // f[0] is field 3 (state)
	ut, _ := strconv.Atoi(f[11])                             // field 14
	st, _ := strconv.Atoi(f[12])                             // field 15
	return time.Duration(ut+st) * time.Second / 100          // USER_HZ
}

func countLines(b *testing.B, r *os.File, n int) {
	buf := make([]byte, 64<<10)
	for seen := 0; seen < n; {
		k, err := r.Read(buf)
		if err != nil {
			b.Fatalf("events: %v after %d lines", err, seen)
		}
		seen += bytes.Count(buf[:k], []byte{'\n'})
	}
}
