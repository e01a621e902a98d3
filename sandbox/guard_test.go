//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// The "dwm-manager" helper creates sandbox "dwm" (Lifetime DieWithManager)
// in RunDir os.Args[1] with the pause os.Args[2] and two containers from
// rootfs os.Args[3] that ignore SIGTERM, printing "running" once they run;
// it SIGKILLs itself at the hook point os.Args[4] ("stop:stopping" stops
// the pod after "running"), and os.Args[5] "shared" shares the PID
// namespace ("host": the host's PID and IPC namespaces);
// os.Args[6], if given, is the Lifetime (default DieWithManager).
func init() {
	testharness.RegisterHelper("dwm-manager", func() int {
		runDir, pauseBin, rootfs, point := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
		crashAt(point)
		ctx := context.Background()
		lifetime := DieWithManager
		if len(os.Args) > 6 {
			lifetime = Lifetime(os.Args[6])
		}
		cfg := Config{ID: "dwm", RunDir: runDir, PauseBinary: pauseBin, Lifetime: lifetime,
			CgroupParent: "podkit-sandbox-test", SharePID: os.Args[5] == "shared",
			HostPID: os.Args[5] == "host", HostIPC: os.Args[5] == "host"}
		sb := managerSetup(ctx, cfg, ctr(rootfs, "a", "term", "ignore"), ctr(rootfs, "b", "term", "ignore"))
		if sb == nil {
			return 1
		}
		fmt.Println("running")
		if point == "stop:stopping" {
			_ = sb.Stop(ctx, time.Minute)
		}
		for {
			time.Sleep(time.Hour)
		}
	})
}

// TestDieWithManager kills a manager (SIGKILL) at points of a
// DieWithManager pod's life, in the three PID-namespace modes, and requires
// that its guard leaves no process, cgroup, mount or file of the pod
// within 2 s. "random" kills it after a random delay, wherever it is
// (starting up, creating the sandbox or a container).
func TestDieWithManager(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	pauseBin := testharness.PauseBinary(t)
	for _, pid := range []string{"shared", "private", "host"} {
		for _, point := range []string{"create:namespaces", "random", "random", "running", "stop:stopping"} {
			t.Run(pid+"/"+point, func(t *testing.T) {
				runDir := filepath.Join(t.TempDir(), "run")
				cmd := testharness.HelperCmd("dwm-manager", runDir, pauseBin, rootfs, point, pid)
				killed := killManager(t, cmd, point)
				requireGone(t, runDir, "dwm", killed.Add(2*time.Second))
				t.Logf("nothing left %v after the manager's death", time.Since(killed).Round(time.Millisecond))
			})
		}
	}
}

// killManager starts the manager helper and returns when it is dead
// (killed by its hook, or by the test at point "running", after
// "stop:stopping" began, or after a random delay).
func killManager(t *testing.T, cmd *exec.Cmd, point string) time.Time {
	t.Helper()
	out := testharness.StartWithStdout(t, cmd)
	switch point {
	case "random":
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Kill()
	case "running", "stop:stopping":
		awaitRunning(t, cmd, out)
		if point == "stop:stopping" {
			time.Sleep(50 * time.Millisecond) // let Stop send its SIGTERMs
		}
		_ = cmd.Process.Kill()
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGKILL {
		t.Fatalf("manager did not die by SIGKILL: %v", err)
	}
	return time.Now()
}

// requireGone reaps what re-parented to the test (a child subreaper:
// the guard, the pause, container inits) until the pod has no process,
// cgroup, mount or file left, and fails if that takes past deadline.
func requireGone(t *testing.T, runDir, id string, deadline time.Time) {
	t.Helper()
	for {
		left := podLeftovers(runDir, id)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command("sh", "-c", "ps -o pid,ppid,stat,args --ppid "+fmt.Sprint(os.Getpid())).CombinedOutput()
			t.Fatalf("left after the manager died: %v\n%s", left, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// podZombies lists the zombie children of the test that were in the pod
// cgroup rel.
func podZombies(rel string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ok := zombieChild(pid, os.Getpid()); ok && (&podCgroup{rel: rel}).held(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// podLeftovers reaps the test's exited children and lists what of the pod
// remains: live children (the guard included), its directory, its
// cgroups, mounts under the run directory.
func podLeftovers(runDir, id string) []string {
	var left []string
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if errors.Is(err, unix.ECHILD) {
			break
		}
		if pid <= 0 {
			left = append(left, "children")
			break
		}
	}
	if _, err := os.Lstat(filepath.Join(runDir, id)); err == nil {
		left = append(left, "dir "+filepath.Join(runDir, id))
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/podkit-sandbox-test/" + id)
	if _, err := os.Stat("/sys/fs/cgroup/podkit-sandbox-test/" + id); err == nil {
		cgs = append(cgs, "/sys/fs/cgroup/podkit-sandbox-test/"+id)
	}
	left = append(left, cgs...)
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, runDir) {
			left = append(left, "mount "+l)
		}
	}
	return left
}

// TestGuardLifetime: a manager's guard runs while it owns DieWithManager
// sandboxes, and exits (reaped: no process lingers, the leak check sees
// to that) once the last is destroyed; List names the live manager.
func TestGuardLifetime(t *testing.T) {
	testharness.Privileged(t)
	cfg := testConfig(t, "g1")
	cfg.Lifetime = DieWithManager
	a := mustCreate(t, cfg)
	cfg.ID = "g2"
	b := mustCreate(t, cfg)
	guardMu.Lock()
	g := guard
	guardMu.Unlock()
	if g == nil || len(g.dirs) != 2 || unix.Kill(g.cmd.Process.Pid, 0) != nil || !g.standIn {
		t.Fatalf("no stand-in guard running for two sandboxes: %+v", g)
	}
	infos, err := List(cfg.RunDir)
	if err != nil || len(infos) != 2 || infos[0].ManagerPid != os.Getpid() {
		t.Fatalf("list: %v %+v", err, infos)
	}
	for _, sb := range []*Sandbox{a, b} {
		if err := sb.Destroy(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	guardMu.Lock()
	defer guardMu.Unlock()
	if guard != nil {
		t.Fatal("guard kept after the last sandbox was destroyed")
	}
}

// TestGuardStandInReplaced: the pause binary stands in for the guard of
// DieWithManager sandboxes; the first OutliveManager sandbox replaces it
// with the guard itself, which takes every sandbox over, and the stand-in
// exits (the leak check sees that no process lingers).
func TestGuardStandInReplaced(t *testing.T) {
	testharness.Privileged(t)
	cfg := testConfig(t, "standin1")
	cfg.Lifetime = DieWithManager
	a := mustCreate(t, cfg)
	guardMu.Lock()
	standIn := guard
	guardMu.Unlock()
	if standIn == nil || !standIn.standIn {
		t.Fatalf("guard of a DieWithManager sandbox: %+v, want the stand-in", standIn)
	}
	cfg.ID, cfg.Lifetime = "standin2", OutliveManager
	b := mustCreate(t, cfg)
	guardMu.Lock()
	g := guard
	guardMu.Unlock()
	if g == standIn || g.standIn || len(g.dirs) != 2 {
		t.Fatalf("guard after an OutliveManager sandbox joined: %+v", g)
	}
	testharness.Eventually(t, "the stand-in to exit", 5*time.Second, 5*time.Millisecond, func() bool {
		return unix.Kill(standIn.cmd.Process.Pid, 0) != nil
	})
	for _, sb := range []*Sandbox{a, b} {
		if err := sb.Destroy(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPreloadGuard: a guard started ahead of the first create (its
// stand-in) is the one that create registers with, and it goes, as any
// guard, with the manager's last guarded sandbox, or at its release when
// no sandbox came.
func TestPreloadGuard(t *testing.T) {
	testharness.Privileged(t)
	cfg := testConfig(t, "preguard")
	cfg.Lifetime = DieWithManager
	release, err := PreloadGuard(cfg.PauseBinary)
	if err != nil {
		t.Fatal(err)
	}
	guardMu.Lock()
	early := guard
	guardMu.Unlock()
	if early == nil || !early.standIn || len(early.dirs) != 0 {
		t.Fatalf("guard after PreloadGuard: %+v, want a stand-in with no sandbox", early)
	}
	if again, err := PreloadGuard(cfg.PauseBinary); err != nil {
		t.Fatal(err)
	} else {
		again() // not the one that started it: keeps it
	}
	sb := mustCreate(t, cfg)
	release() // a sandbox is registered: kept
	guardMu.Lock()
	g := guard
	guardMu.Unlock()
	if g != early || len(g.dirs) != 1 {
		t.Fatalf("guard of the sandbox: %+v, want the preloaded one %+v", g, early)
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	testharness.Eventually(t, "the guard to exit", 5*time.Second, 5*time.Millisecond, func() bool {
		return unix.Kill(early.cmd.Process.Pid, 0) != nil
	})

	// Released before any sandbox: it goes (the leak check sees it).
	release, err = PreloadGuard(cfg.PauseBinary)
	if err != nil {
		t.Fatal(err)
	}
	release()
	guardMu.Lock()
	defer guardMu.Unlock()
	if guard != nil {
		t.Fatalf("guard kept after its release: %+v", guard)
	}
}

func TestLifetimeValidated(t *testing.T) {
	cfg := Config{ID: "x", RunDir: t.TempDir(), Lifetime: "Forever"}
	err := cfg.Validate()
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "Lifetime") {
		t.Fatalf("bad Lifetime: %v", err)
	}
}

// TestRemoveLeftovers: a pod whose (OutliveManager) manager was killed is
// listed without a manager, and Remove destroys it in any state it was
// caught in; removing it again succeeds.
func TestRemoveLeftovers(t *testing.T) {
	testharness.Privileged(t)
	for _, point := range []string{"create:namespaces", "running", "running-pid", "running-host", "stop:stopping"} {
		t.Run(point, func(t *testing.T) {
			runDir := runManager(t, point)
			infos, err := List(runDir)
			if point != "create:namespaces" && (err != nil || len(infos) != 1 || infos[0].ManagerPid != 0) {
				t.Fatalf("list: %v %+v", err, infos)
			}
			for range 2 {
				if err := Remove(context.Background(), runDir, "rec"); err != nil {
					t.Fatal(err)
				}
			}
			requireGone(t, runDir, "rec", time.Now().Add(5*time.Second))
		})
	}
}

// TestOutliveManagerKilled kills the manager of an OutliveManager pod at
// points of its life; a new manager's Reconcile takes it over (or
// finishes an interrupted create), and Stop and Destroy leave nothing.
func TestOutliveManagerKilled(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	pauseBin := testharness.PauseBinary(t)
	for _, pid := range []string{"shared", "private", "host"} {
		for _, point := range []string{"create:namespaces", "start:unsaved", "random", "running", "stop:stopping"} {
			t.Run(pid+"/"+point, func(t *testing.T) {
				runDir := filepath.Join(t.TempDir(), "run")
				cmd := testharness.HelperCmd("dwm-manager", runDir, pauseBin, rootfs, point, pid, string(OutliveManager))
				killManager(t, cmd, point)
				live, err := Reconcile(context.Background(), runDir)
				if err != nil {
					t.Fatal(err)
				}
				for _, sb := range live {
					if point == "running" && sb.State() != StateReady {
						t.Errorf("state after reconcile: %s", sb.State())
					}
					if err := sb.Stop(context.Background(), 100*time.Millisecond); err != nil {
						t.Fatal(err)
					}
					if err := sb.Destroy(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				// An init the dead manager forked but never recorded
				// re-parented to the test (a subreaper): Destroy reaps it.
				if z := podZombies("/podkit-sandbox-test/dwm"); len(z) > 0 {
					t.Errorf("zombies of the pod left to the next manager: %v", z)
				}
				requireGone(t, runDir, "dwm", time.Now().Add(5*time.Second))
			})
		}
	}
}

// The "outlive-manager" helper creates the OutliveManager sandbox "out"
// in RunDir os.Args[1] (pause os.Args[2], rootfs os.Args[3]) with
// containers a (sleeps), b (reads its stdin to EOF, then exits 0) and c
// (ignores SIGTERM), prints "running" and waits to be killed.
func init() {
	testharness.RegisterHelper("outlive-manager", func() int {
		ctx := context.Background()
		cfg := Config{ID: "out", RunDir: os.Args[1], PauseBinary: os.Args[2],
			CgroupParent: "podkit-sandbox-test", Lifetime: OutliveManager}
		b := ctr(os.Args[3], "b", "stdin")
		b.Stdin = true
		if managerSetup(ctx, cfg, ctr(os.Args[3], "a", "sleep"), b, ctr(os.Args[3], "c", "term", "ignore")) == nil {
			return 1
		}
		return managerIdle()
	})
}

// TestOutliveManagerRecordsExits: containers that exit while no manager
// runs (one killed by SIGKILL, one exiting 0 when its stdin ends with the
// manager) are reported by the next manager's Load with their real exit
// status and time, recorded by the dead manager's guard; the one still
// running is re-attached.
func TestOutliveManagerRecordsExits(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	runDir := filepath.Join(t.TempDir(), "run")
	cmd := testharness.HelperCmd("outlive-manager", runDir, testharness.PauseBinary(t), rootfs)
	killManager(t, cmd, "running")
	infos, err := List(runDir)
	if err != nil || len(infos) != 1 || len(infos[0].Containers) != 3 {
		t.Fatalf("list: %v %+v", err, infos)
	}
	killedAt := time.Now()
	if err := unix.Kill(infos[0].Containers[0].Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The inits re-parented to the test (a child subreaper): reaped here,
	// so only the guard's records can tell their exit status.
	eventually(t, "exits recorded by the guard", func() bool {
		podLeftovers(runDir, "out")
		_, errA := os.Stat(filepath.Join(runDir, "out", "exits", "a.json"))
		_, errB := os.Stat(filepath.Join(runDir, "out", "exits", "b.json"))
		return errA == nil && errB == nil
	})
	sb, err := Load(runDir, "out")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := statusOf(sb, "a"), statusOf(sb, "b"), statusOf(sb, "c")
	if a.State != ContainerTerminated || a.Exit == nil || a.Exit.ExitCode != 137 || a.Exit.Signal != unix.SIGKILL ||
		a.Exit.Reason != ReasonError || a.Exit.Finished.Before(killedAt.Add(-time.Second)) || a.Exit.Finished.After(time.Now()) {
		t.Errorf("a (killed while no manager ran): %+v %+v", a, a.Exit)
	}
	if b.State != ContainerTerminated || b.Exit == nil || b.Exit.ExitCode != 0 || b.Exit.Reason != ReasonCompleted {
		t.Errorf("b (stdin ended with the manager): %+v %+v", b, b.Exit)
	}
	if c.State != ContainerRunning {
		t.Errorf("c: %+v", c)
	}
	if err := sb.Stop(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c := statusOf(sb, "c"); c.Exit == nil || c.Exit.Reason != ReasonKilledAfterGrace {
		t.Errorf("c after Stop: %+v", c)
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	requireGone(t, runDir, "out", time.Now().Add(5*time.Second))
}

// TestGuardMemory reports (asserting nothing) the resident memory of the
// guard process: one per manager, whatever its number of pods, with a
// map entry per pod and per watched container init; with one
// DieWithManager pod, of the pause binary standing in for it.
func TestGuardMemory(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "mem0")
	cfg.Lifetime = OutliveManager
	var sbs []*Sandbox
	defer func() {
		for _, sb := range sbs {
			_ = sb.Destroy(context.Background())
		}
	}()
	for i := range 20 {
		cfg.ID = fmt.Sprintf("mem%d", i)
		cfg.Lifetime = []Lifetime{DieWithManager, OutliveManager}[min(i, 1)] // the stand-in, then the guard
		sb := mustCreate(t, cfg)
		sbs = append(sbs, sb)
		run(t, sb, ctr(rootfs, "app", "sleep"))
		if n := i + 1; n == 1 || n == 20 {
			guardMu.Lock()
			pid := guard.cmd.Process.Pid
			guardMu.Unlock()
			time.Sleep(100 * time.Millisecond) // the guard reads the registrations
			st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			for _, l := range strings.Split(string(st), "\n") {
				if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "RssAnon") {
					t.Logf("guard with %2d pods: %s", n, strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}
}

// TestGuardByeEncoding: the bye the manager writes is the one message the
// bare stand-in recognises byte for byte (pause's guardwait_test.go sends
// the same bytes), and the guard reads it as any other message.
func TestGuardByeEncoding(t *testing.T) {
	b, err := json.Marshal(guardMsg{Op: "bye"})
	if err != nil || string(b)+"\n" != guardBye {
		t.Fatalf("guardMsg{Op: bye} encodes as %s (%v), want %q", b, err, guardBye)
	}
}
