//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/exeseal"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// go test -run XXX -bench . -benchtime 200x ./sandbox/
//
// Every benchmark reports its floor or the reference runtimes in the same
// run as sub-benchmarks.

func benchConfig(b *testing.B, id string) Config {
	cfg := testConfig(b, id)
	cfg.CgroupParent = "podkit-bench"
	cfg.RunDir = tmpfsRunDir(b)
	return cfg
}

// benchSandbox creates the sandbox of cfg for a benchmark and destroys it
// when the benchmark ends.
func benchSandbox(b *testing.B, cfg Config) *Sandbox {
	b.Helper()
	sb, err := Create(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Destroy(context.Background()) })
	return sb
}

// tmpfsRunDir returns a run directory on a tmpfs of its own, as the
// default /run/podkit is on a standard host (/run is a tmpfs). On the
// development machines /run and /tmp are on ext4, where the directories
// and files of one sandbox cost ~4 ms more to create and remove.
func tmpfsRunDir(b *testing.B) string {
	dir := b.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0711"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir + "/run"
}

func BenchmarkSandbox(b *testing.B) {
	testharness.RequireRoot(b)
	payload := testharness.BuildStatic(b, payloadPkg)
	b.Run("floor-clone-static-true", func(b *testing.B) {
		for range b.N {
			cmd := exec.Command(payload, "true")
			cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS}
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// pause: the bare pause (amd64, arm64); pause-go: the same binary linked
	// without it, so that the pause runs the Go program. Each pod is the
	// only one under the cgroup parent, so its create makes the parent in
	// every hierarchy and its destroy removes it; pause-beside-a-pod keeps
	// a pinned-only pod there, as on a node that runs other pods.
	for _, mode := range []string{"pause", "pause-go", "pinned-only", "pause-beside-a-pod"} {
		b.Run("create+destroy/"+mode, func(b *testing.B) {
			cfg := benchConfig(b, "bench")
			cfg.NoPause = mode == "pinned-only"
			if mode == "pause-go" {
				cfg.PauseBinary = testharness.PauseBinaryGo(b)
			}
			if mode == "pause-beside-a-pod" {
				other := cfg
				other.ID, other.NoPause = "bench-other", true
				sb, err := Create(context.Background(), other)
				if err != nil {
					b.Fatal(err)
				}
				defer sb.Destroy(context.Background())
			}
			var create, destroy time.Duration
			for i := range b.N {
				cfg.ID = fmt.Sprintf("bench-%d", i)
				t0 := time.Now()
				sb, err := Create(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := sb.Destroy(context.Background()); err != nil {
					b.Fatal(err)
				}
				create += t1.Sub(t0)
				destroy += time.Since(t1)
			}
			b.ReportMetric(float64(create.Microseconds())/float64(b.N)/1000, "create-ms/op")
			b.ReportMetric(float64(destroy.Microseconds())/float64(b.N)/1000, "destroy-ms/op")
		})
	}
}

// durations collects per-iteration times for percentiles. On cgroup v1
// (and v2) a by-pid move into a cgroup (cgroup.procs, which runc, crun and
// libcontainer all write) takes the kernel's cgroup_threadgroup_rwsem for
// writing; when no such move happened in the last RCU grace period that
// waits for a whole one (rcu_sync_enter, ~7-13 ms here). Some runs pay it
// and some do not, so a mean alone hides the typical run: the medians are
// reported next to it.
type durations []time.Duration

func (d durations) report(b *testing.B, name string) {
	if len(d) < 10 {
		return // the b.N=1 probe run
	}
	s := slices.Sorted(slices.Values(d))
	ms := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 }
	b.ReportMetric(ms(s[len(s)/2]), name+"-p50-ms")
	b.ReportMetric(ms(s[len(s)*9/10]), name+"-p90-ms")
}

func BenchmarkContainer(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "cbench")
	cfg.NoPause = true
	sb := benchSandbox(b, cfg)
	trueArgs := staticTrue(b, rootfs)

	// Both start paths of the sandbox (faststart_linux.go), side by side.
	for _, path := range []StartPath{StartFast, StartLibcontainer} {
		b.Run("podkit-"+string(path)+"/create+start+exit+remove(true)", func(b *testing.B) { benchPodkitContainer(b, sb, rootfs, trueArgs, path) })
	}
	// Where procfs takes a "pidns", the fast path with /proc opened the
	// way older kernels need (by a child forked into the namespace).
	if procPidnsSupported() == nil && procByChildBuilt {
		b.Run("podkit-fast-procchild/create+start+exit+remove(true)", func(b *testing.B) {
			procByChild = true
			defer func() { procByChild = false }()
			benchPodkitContainer(b, sb, rootfs, trueArgs, StartFast)
		})
	}

	// The same OCI spec, written as config.json, for the reference runtimes.
	spec := ContainerSpec{Name: "ref", Rootfs: rootfs, Args: trueArgs}
	oci := ociSpec(&spec, sb.Dir(), sb.Namespaces(), "/podkit-bench/ref")
	b.Run("libcontainer/run(true)", func(b *testing.B) { benchLibcontainerRun(b, oci) })
	bundle := b.TempDir()
	data, _ := json.Marshal(oci)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, rt := range []string{"crun", "runc"} {
		path, err := exec.LookPath(rt)
		if err != nil {
			b.Logf("%s not installed (apt-get install %s): skipped", rt, rt)
			continue
		}
		b.Run(rt+"/run(true)", func(b *testing.B) {
			root := filepath.Join(b.TempDir(), rt)
			var runs durations
			err := testharness.AsReferenceRuntime(func() error {
				for i := range b.N {
					cmd := exec.Command(path, "--root", root, "run", "--bundle", bundle, fmt.Sprintf("%s-%d", rt, i))
					t0 := time.Now()
					if out, err := cmd.CombinedOutput(); err != nil {
						return fmt.Errorf("%s: %v: %s", rt, err, out)
					}
					runs = append(runs, time.Since(t0))
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			runs.report(b, "cycle")
		})
	}
	cleanBenchCgroups()
}

// staticTrue puts a static `true` in rootfs (busybox-static's, the
// Debian package the tests install) and returns the command that runs it;
// without busybox, the Go test payload's "true" mode, whose own runtime
// start adds ~1 ms to every runtime's row.
func staticTrue(b *testing.B, rootfs string) []string {
	bin, err := os.ReadFile("/bin/busybox")
	if err == nil {
		_ = os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755)
		err = os.WriteFile(filepath.Join(rootfs, "bin", "true"), bin, 0o755)
	}
	if err != nil {
		b.Logf("no static true (apt-get install busybox-static): the Go payload runs instead: %v", err)
		return []string{"/payload", "true"}
	}
	return []string{"/bin/true"}
}

// benchPodkitContainer is one container cycle of the sandbox API with the
// given start path.
func benchPodkitContainer(b *testing.B, sb *Sandbox, rootfs string, args []string, path StartPath) {
	ctx := context.Background()
	var create, start, wait, remove time.Duration
	var creates, cycles durations
	for i := range b.N {
		name := fmt.Sprintf("t%d", i)
		spec := ContainerSpec{Name: name, Rootfs: rootfs, Args: args, StartPath: path}
		t0 := time.Now()
		if err := sb.CreateContainer(ctx, spec); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if st := statusOf(sb, name); i == 0 && st.StartPath != path {
			b.Logf("started by %s, not %s: %s", st.StartPath, path, st.StartPathReason)
		}
		if err := sb.StartContainer(ctx, name); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if es, err := sb.Wait(ctx, name); err != nil || es.ExitCode != 0 {
			b.Fatal(err, es)
		}
		t3 := time.Now()
		if err := sb.RemoveContainer(ctx, name); err != nil {
			b.Fatal(err)
		}
		create, start, wait, remove = create+t1.Sub(t0), start+t2.Sub(t1), wait+t3.Sub(t2), remove+time.Since(t3)
		creates, cycles = append(creates, t1.Sub(t0)), append(cycles, time.Since(t0))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) / 1000 }
	b.ReportMetric(ms(create), "create-ms/op")
	b.ReportMetric(ms(start), "start-ms/op")
	b.ReportMetric(ms(wait), "exit-ms/op")
	b.ReportMetric(ms(remove), "remove-ms/op")
	creates.report(b, "create")
	cycles.report(b, "cycle")
}

// benchLibcontainerRun is the floor of podkit's container path: the same
// OCI spec run by libcontainer alone, embedded in this process as podkit
// embeds it (Create, Run, Wait, Destroy; libcontainer makes and removes the
// cgroup itself), with none of podkit's bookkeeping.
func benchLibcontainerRun(b *testing.B, oci *specs.Spec) {
	cfg, err := libcontainerConfig(oci, "lc")
	if err != nil {
		b.Fatal(err)
	}
	root := filepath.Join(b.TempDir(), "libct")
	var runs durations
	for i := range b.N {
		t0 := time.Now()
		lc, err := libcontainer.Create(root, fmt.Sprintf("lc-%d", i), cfg)
		if err != nil {
			b.Fatal(err)
		}
		p := &libcontainer.Process{Args: oci.Process.Args, Env: oci.Process.Env, Cwd: "/", Init: true}
		if err := lc.Run(p); err != nil {
			_ = lc.Destroy()
			b.Fatal(err)
		}
		ps, err := p.Wait()
		if err != nil || !ps.Success() {
			b.Fatal(err, ps)
		}
		if err := lc.Destroy(); err != nil {
			b.Fatal(err)
		}
		runs = append(runs, time.Since(t0))
	}
	runs.report(b, "cycle")
}

// BenchmarkExec: Exec into a running container, the fast path
// (nsjoin.Command from a thread already in the container's namespaces,
// cgroups and credentials) against the libcontainer exec it replaced, in
// the same run, with the floor: the same binary started on the host with
// no isolation at all. Two binaries: the static Go test payload (`true`
// mode, whose own runtime start dominates) and, when gcc can build it, a
// static C `true`.
//
//	go test ./sandbox -run '^$' -bench Exec -benchtime 200x
func BenchmarkExec(b *testing.B) {
	testharness.RequireRoot(b)
	rootfs := testRootfs(b)
	cfg := benchConfig(b, "ebench")
	cfg.NoPause = true
	sb := benchSandbox(b, cfg)
	ctx := context.Background()
	run(b, sb, ctr(rootfs, "execd", "sleep"))
	// libcontainer execs only into a container it started.
	lcSpec := ctr(rootfs, "execd-lc", "sleep")
	lcSpec.StartPath = StartLibcontainer
	run(b, sb, lcSpec)
	c, err := sb.container("bench", "execd-lc")
	if err != nil {
		b.Fatal(err)
	}
	bins := [][]string{{"/payload", "true"}}
	gcc := exec.Command("gcc", "-static", "-O2", "-o", rootfs+"/true", "-x", "c", "-")
	gcc.Stdin = strings.NewReader("int main(void) { return 0; }\n")
	if out, err := gcc.CombinedOutput(); err != nil {
		b.Logf("no static C true (gcc -static: %v %s): rows skipped", err, out)
	} else {
		bins = append(bins, []string{"/true"})
	}
	for _, args := range bins {
		spec := ExecSpec{Args: args}
		name := strings.Join(args, "-")[1:]
		b.Run(name+"/floor-host-exec", func(b *testing.B) {
			for range b.N {
				if err := exec.Command(rootfs+args[0], args[1:]...).Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
		perOp := map[string]time.Duration{}
		for _, row := range []struct {
			name string
			exec func(context.Context, ExecSpec) (*ExitStatus, error)
		}{
			{"fast", func(ctx context.Context, s ExecSpec) (*ExitStatus, error) { return sb.Exec(ctx, "execd", s) }},
			{"libcontainer", c.execLibcontainer},
		} {
			b.Run(name+"/"+row.name, func(b *testing.B) {
				t0 := time.Now()
				for range b.N {
					if es, err := row.exec(ctx, spec); err != nil || es.ExitCode != 0 {
						b.Fatal(err, es)
					}
				}
				perOp[row.name] = time.Since(t0) / time.Duration(b.N)
			})
		}
		if perOp["fast"] > 0 {
			b.Logf("%s: fast %v/op, libcontainer %v/op: %.1fx", name, perOp["fast"], perOp["libcontainer"], float64(perOp["libcontainer"])/float64(perOp["fast"]))
		}
	}
	b.Run("exeseal/clone-self-exe", func(b *testing.B) {
		dir := b.TempDir()
		for range b.N {
			f, err := exeseal.CloneSelfExe(dir)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}

func cleanBenchCgroups() {
	ms, _ := cgroups.GetCgroupMounts(true)
	for _, m := range ms {
		_ = cgroups.RemovePath(filepath.Join(m.Mountpoint, "podkit-bench"))
	}
	_ = cgroups.RemovePath("/sys/fs/cgroup/unified/podkit-bench")
}
