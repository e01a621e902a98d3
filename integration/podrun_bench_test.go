//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/internal/testharness"
)

// BenchmarkPodrunVsCrun times what a user times: the whole podrun process
// running a one-container pod whose container runs a static `true` from a
// rootfs directory (pod sandbox, container, exit, the pod's Succeeded,
// teardown), against `crun run` of the same rootfs with crun's default
// spec, in the same run.
//
//	go test ./integration -run '^$' -bench BenchmarkPodrunVsCrun -benchtime 100x
func BenchmarkPodrunVsCrun(b *testing.B) {
	testharness.RequireRoot(b)
	b.Setenv("PODKIT_PAUSE", testharness.PauseBinary(b))
	podrunBin := testharness.BuildProgram(b, "github.com/podkit/podkit/examples/podrun")
	dir := b.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	busybox, err := os.ReadFile("/bin/busybox") // busybox-static
	if err != nil {
		b.Fatalf("a static busybox (apt-get install busybox-static): %v", err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), busybox, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(rootfs, "bin/true")); err != nil {
		b.Fatal(err)
	}
	manifest := filepath.Join(dir, "true.yaml")
	pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: bench-true}\nspec:\n  restartPolicy: Never\n"+
		"  containers:\n  - {name: t, image: %s, command: [/bin/true]}\n", rootfs)
	if err := os.WriteFile(manifest, []byte(pod), 0o644); err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, h := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified", ""} {
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", h, cgroupParent))
		}
	}()
	// Both runtimes keep their state on a tmpfs, as /run is on a standard
	// host (here /run and /tmp are on the root ext4, where each file
	// created and renamed costs a journal update).
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o711); err != nil {
		b.Fatal(err)
	}
	if err := unix.Mount("tmpfs", state, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0711"); err != nil {
		b.Fatal(err)
	}
	defer unix.Unmount(state, unix.MNT_DETACH)
	crun, err := exec.LookPath("crun")
	if err != nil {
		b.Fatalf("crun, the reference (apt-get install crun): %v", err)
	}
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(crun, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		b.Fatalf("crun spec: %v: %s", err, out)
	}
	spec, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	spec = replaceJSON(b, spec, rootfs)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), spec, 0o644); err != nil {
		b.Fatal(err)
	}
	// podrun's default (--pause auto) gives this pod no pause: it does
	// not share its PID namespace. pause-always is the pod with one.
	podrun := func(pause string) *exec.Cmd {
		return exec.Command(podrunBin, "--run-dir", filepath.Join(state, "run"), "--log-dir", filepath.Join(dir, "logs"),
			"--cgroup-parent", cgroupParent, "--no-network", "--json", "--pause", pause, manifest)
	}
	crunRoot := filepath.Join(state, "crun")
	ref, stop := referenceRunner(b)
	defer stop()
	// The three run in rounds, a block of each per round, so that the
	// host's speed, which drifts from minute to minute, weighs on all
	// alike. A run leaves work to the kernel after it exits (the network
	// namespace's teardown above all), which slows whatever runs next:
	// the first run of each block, which pays for another kind's, is not
	// counted, so that each kind pays for its own, as run after run. The
	// round ratio compares a round's podrun p50 with its crun p50.
	const block = 10
	var auto, always, crunRuns []time.Duration
	var roundRatios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i += block {
		n := min(block, b.N-i)
		var round [3][]time.Duration
		for k, r := range []struct {
			runs *[]time.Duration
			cmd  func(j int) *exec.Cmd
			run  func(*exec.Cmd) (time.Duration, error)
		}{{&auto, func(int) *exec.Cmd { return podrun("auto") }, timeRun},
			{&always, func(int) *exec.Cmd { return podrun("always") }, timeRun},
			{&crunRuns, func(j int) *exec.Cmd {
				return exec.Command(crun, "--root", crunRoot, "run", "--bundle", bundle, fmt.Sprintf("bench-%d-%d", i, j))
			}, ref}} {
			for j := range n + 1 {
				d, err := r.run(r.cmd(j))
				if err != nil {
					b.Fatal(err)
				}
				if j > 0 {
					round[k] = append(round[k], d)
				}
			}
			*r.runs = append(*r.runs, round[k]...)
		}
		roundRatios = append(roundRatios, float64(p50(round[0]))/float64(p50(round[2])))
	}
	b.StopTimer()
	slices.Sort(roundRatios)
	reportRuns(b, "podrun", auto)
	reportRuns(b, "podrun-pause-always", always)
	reportRuns(b, "crun", crunRuns)
	b.ReportMetric(float64(p50(auto))/float64(p50(crunRuns)), "ratio-of-p50s")
	b.ReportMetric(roundRatios[len(roundRatios)/2], "round-ratio-median")
}

// referenceRunner runs commands for the reference runtime on a thread of
// its own (testharness.AsReferenceRuntime: crun takes no hybrid cgroup
// host). run starts cmd there and returns its time; stop ends the thread.
func referenceRunner(b *testing.B) (run func(*exec.Cmd) (time.Duration, error), stop func()) {
	type result struct {
		d   time.Duration
		err error
	}
	cmds, results, done := make(chan *exec.Cmd), make(chan result), make(chan error, 1)
	go func() {
		done <- testharness.AsReferenceRuntime(func() error {
			for cmd := range cmds {
				d, err := timeRun(cmd)
				results <- result{d, err}
			}
			return nil
		})
	}()
	run = func(cmd *exec.Cmd) (time.Duration, error) {
		select {
		case cmds <- cmd:
			r := <-results
			return r.d, r.err
		case err := <-done:
			return 0, fmt.Errorf("the reference runtime's thread: %v", err)
		}
	}
	return run, func() { close(cmds) }
}

// timeRun runs cmd to its end and returns its wall-clock time.
func timeRun(cmd *exec.Cmd) (time.Duration, error) {
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", cmd.Path, err, out)
	}
	return time.Since(t0), nil
}

func p50(runs []time.Duration) time.Duration {
	s := slices.Clone(runs)
	slices.Sort(s)
	return s[len(s)/2]
}

// reportRuns reports the p50 and mean of runs as name's.
func reportRuns(b *testing.B, name string, runs []time.Duration) {
	var sum time.Duration
	for _, d := range runs {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(p50(runs)), name+"-p50-ms")
	b.ReportMetric(ms(sum/time.Duration(len(runs))), name+"-mean-ms")
}

// replaceJSON points crun's default spec at rootfs and runs /bin/true
// there without a terminal.
func replaceJSON(b *testing.B, spec []byte, rootfs string) []byte {
	var s map[string]any
	if err := json.Unmarshal(spec, &s); err != nil {
		b.Fatal(err)
	}
	s["root"] = map[string]any{"path": rootfs, "readonly": true}
	p := s["process"].(map[string]any)
	p["args"], p["terminal"] = []string{"/bin/true"}, false
	out, err := json.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
