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
//	go test ./integration -run '^$' -bench BenchmarkPodrunVsCrun -benchtime 30x
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
	// podrun's default (--pause auto) gives this pod no pause: it does
	// not share its PID namespace. pause-always is the pod with one.
	for _, run := range []struct{ name, pause string }{{"podrun", "auto"}, {"podrun-pause-always", "always"}} {
		b.Run(run.name, func(b *testing.B) {
			args := []string{"--run-dir", filepath.Join(state, "run"), "--log-dir", filepath.Join(dir, "logs"),
				"--cgroup-parent", cgroupParent, "--no-network", "--json", "--pause", run.pause, manifest}
			runs, err := timeRuns(b.N, func() *exec.Cmd { return exec.Command(podrunBin, args...) })
			reportRuns(b, runs, err)
		})
	}
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
	b.Run("crun-run", func(b *testing.B) {
		root := filepath.Join(state, "crun")
		i := 0
		var runs []time.Duration
		err := testharness.AsReferenceRuntime(func() (err error) {
			runs, err = timeRuns(b.N, func() *exec.Cmd {
				i++
				return exec.Command(crun, "--root", root, "run", "--bundle", bundle, fmt.Sprintf("bench-%d", i))
			})
			return err
		})
		reportRuns(b, runs, err)
	})
}

// timeRuns runs n commands one after another, each to its end, and
// returns their wall-clock times.
func timeRuns(n int, cmd func() *exec.Cmd) ([]time.Duration, error) {
	var runs []time.Duration
	for range n {
		c := cmd()
		t0 := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", c.Path, err, out)
		}
		runs = append(runs, time.Since(t0))
	}
	return runs, nil
}

// reportRuns reports the p50 and mean of runs.
func reportRuns(b *testing.B, runs []time.Duration, err error) {
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(runs)
	var sum time.Duration
	for _, d := range runs {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(runs[len(runs)/2]), "p50-ms")
	b.ReportMetric(ms(sum/time.Duration(len(runs))), "mean-ms")
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
