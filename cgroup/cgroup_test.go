//go:build linux

package cgroup

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// TestPodLayout: pod, pause leaf and container leaves exist in every
// hierarchy the mode needs, limits land in the right files, processes can
// be added and listed, Destroy leaves nothing anywhere.
func TestPodLayout(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "layout", nil)
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatalf("AddContainer: %v", err)
			}
			if got, want := app.Path(), testParent+"/layout/app"; got != want {
				t.Fatalf("Path = %q, want %q", got, want)
			}
			if pod.Pause().Path() != testParent+"/layout/"+PauseName {
				t.Fatalf("pause path %q", pod.Pause().Path())
			}
			for ctrl, dir := range app.Paths() {
				if _, err := os.Stat(dir); err != nil {
					t.Errorf("%s dir: %v", ctrl, err)
				}
			}
			h := startHelper(t, "sleeper")
			if err := app.AddProcess(h.pid()); err != nil {
				t.Fatalf("AddProcess: %v", err)
			}
			procs, err := pod.Cgroup().Procs()
			if err != nil || !slices.Contains(procs, h.pid()) {
				t.Fatalf("pod Procs = %v, %v; want %d", procs, err, h.pid())
			}
			if _, err := pod.AddContainer("app", nil); !errors.Is(err, ErrExist) {
				t.Fatalf("duplicate container: %v", err)
			}
			if _, err := pod.AddContainer(PauseName, nil); !errors.Is(err, ErrInvalidName) {
				t.Fatalf("container named pause: %v", err)
			}
			ctx := ctx30(t)
			loaded, err := s.LoadPod(PodConfig{Parent: testParent, ID: "layout"})
			if err != nil {
				t.Fatalf("LoadPod: %v", err)
			}
			if c, err := loaded.Container("app"); err != nil || c.Path() != app.Path() {
				t.Fatalf("loaded container: %v, %v", c, err)
			}
			if err := loaded.Destroy(ctx); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			_ = h.cmd.Wait()
			assertGone(t, s, pod.Cgroup().Path())
			if _, err := s.LoadPod(PodConfig{Parent: testParent, ID: "layout"}); !errors.Is(err, ErrNotExist) {
				t.Fatalf("LoadPod of a deleted pod: %v", err)
			}
			if err := pod.Destroy(ctx); err != nil {
				t.Fatalf("second Destroy: %v", err)
			}
		})
	}
}

// TestPodWithoutPauseLeaf: a pod whose namespaces are pinned with no
// process gets no pause leaf, is loaded back without one, and is deleted
// like any other.
func TestPodWithoutPauseLeaf(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			newTestPod(t, s, "placeholder", nil) // registers the cleanup of testParent
			pod, err := s.NewPod(PodConfig{Parent: testParent, ID: "nopause", NoPauseLeaf: true})
			if err != nil {
				t.Fatalf("NewPod: %v", err)
			}
			if pod.Pause() != nil {
				t.Fatalf("Pause() = %v, want nil", pod.Pause().Path())
			}
			for ctrl, dir := range pod.Cgroup().Paths() {
				if _, err := os.Stat(dir + "/" + PauseName); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: pause leaf stat: %v, want it absent", ctrl, err)
				}
			}
			if _, err := pod.AddContainer("app", nil); err != nil {
				t.Fatalf("AddContainer: %v", err)
			}
			loaded, err := s.LoadPod(PodConfig{Parent: testParent, ID: "nopause"})
			if err != nil {
				t.Fatalf("LoadPod: %v", err)
			}
			if loaded.Pause() != nil {
				t.Errorf("loaded Pause() = %v, want nil", loaded.Pause().Path())
			}
			if _, err := loaded.Container("app"); err != nil {
				t.Errorf("loaded container: %v", err)
			}
			if err := loaded.Destroy(ctx30(t)); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			assertGone(t, s, pod.Cgroup().Path())
		})
	}
}

// assertGone checks that path exists in no hierarchy at all.
func assertGone(t *testing.T, s *System, path string) {
	t.Helper()
	for _, root := range s.l.roots {
		if _, err := os.Stat(root + path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s%s still there (%v)", root, path, err)
		}
	}
}

// TestDeleteEveryHierarchy: a directory a runtime created in a named v1
// hierarchy or the unified tree (as libcontainer does) is removed too, and
// Delete retries while the last process is still exiting.
func TestDeleteEveryHierarchy(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "del", nil)
	app, err := pod.AddContainer("app", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range s.l.roots {
		if err := os.MkdirAll(root+app.Path()+"/extra", 0o755); err != nil {
			t.Fatalf("mkdir in %s: %v", root, err)
		}
	}
	h := startHelper(t, "sleeper")
	if err := app.AddProcess(h.pid()); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Process.Kill() // exiting while Delete runs
	ctx := ctx30(t)
	if err := app.KillAll(ctx); err != nil {
		t.Fatalf("KillAll: %v", err)
	}
	if err := app.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_ = h.cmd.Wait()
	assertGone(t, s, app.Path())
	if err := app.Delete(ctx); err != nil {
		t.Fatalf("Delete twice: %v", err)
	}
	if err := pod.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, s, pod.Cgroup().Path())
}

// TestDeleteBusy: deleting a cgroup that still has a process fails with
// ErrBusy within the bounded retry, and leaves the cgroup usable.
func TestDeleteBusy(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "busy", nil)
	h := startHelper(t, "sleeper")
	if err := pod.Pause().AddProcess(h.pid()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := pod.Pause().Delete(ctx)
	if !errors.Is(err, ErrBusy) || !errors.Is(err, unix.EBUSY) {
		t.Fatalf("Delete of a busy cgroup = %v, want ErrBusy/EBUSY", err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Path != pod.Pause().Path() {
		t.Fatalf("error %v does not name the cgroup", err)
	}
	if err := pod.Destroy(ctx30(t)); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
}

// TestKillAllStubborn: processes that ignore SIGTERM and keep forking are
// all killed, and the cgroup is empty afterwards.
func TestKillAllStubborn(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			r := &Resources{Pids: &Pids{Max: 64}}
			if name == "unified-empty" {
				r = nil
			}
			pod := newTestPod(t, s, "stubborn", nil)
			app, err := pod.AddContainer("app", r)
			if err != nil {
				t.Fatal(err)
			}
			h := startHelper(t, "stubborn")
			if r == nil {
				boundWithV1Pids(t, h.pid(), 64)
			}
			if err := app.AddProcess(h.pid()); err != nil {
				t.Fatal(err)
			}
			h.goNow(t)
			eventually(t, "the helper to fork", func() bool {
				p, _ := app.Procs()
				return len(p) >= 8
			})
			pids, _ := app.Procs()
			for _, pid := range pids {
				_ = unix.Kill(pid, unix.SIGTERM)
			}
			time.Sleep(50 * time.Millisecond)
			if after, _ := app.Procs(); len(after) < len(pids) {
				t.Fatalf("SIGTERM killed processes: %d -> %d", len(pids), len(after))
			}
			if err := app.KillAll(ctx30(t)); err != nil {
				t.Fatalf("KillAll: %v", err)
			}
			if left, err := app.Procs(); err != nil || len(left) != 0 {
				t.Fatalf("after KillAll: %v, %v", left, err)
			}
			_ = h.cmd.Wait()
			reapOrphans()
			if err := pod.Destroy(ctx30(t)); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			assertGone(t, s, pod.Cgroup().Path())
		})
	}
}

// TestFreezeThaw: a frozen cgroup's busy process uses no CPU; thaw
// resumes it.
func TestFreezeThaw(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "freeze", nil)
			h := startHelper(t, "spin", "20s")
			if err := pod.Pause().AddProcess(h.pid()); err != nil {
				t.Fatal(err)
			}
			h.goNow(t)
			usage := func() time.Duration {
				st, err := pod.Pause().Stats()
				if err != nil {
					t.Fatal(err)
				}
				return st.CPU.Usage
			}
			eventually(t, "CPU usage", func() bool { return usage() > 0 })
			ctx := ctx30(t)
			if err := pod.Pause().Freeze(ctx); err != nil {
				t.Fatalf("Freeze: %v", err)
			}
			u1 := usage()
			time.Sleep(100 * time.Millisecond)
			if u2 := usage(); u2 != u1 {
				t.Fatalf("frozen cgroup used CPU: %v -> %v", u1, u2)
			}
			if err := pod.Pause().Thaw(ctx); err != nil {
				t.Fatalf("Thaw: %v", err)
			}
			eventually(t, "CPU usage after thaw", func() bool { return usage() > u1 })
			if err := pod.Destroy(ctx); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			_ = h.cmd.Wait()
		})
	}
}

// TestCloneIntoCgroup (v2): a process started with the cgroup's directory
// fd is born inside the cgroup.
func TestCloneIntoCgroup(t *testing.T) {
	testharness.Privileged(t)
	for name, s := range systems(t) {
		t.Run(name, func(t *testing.T) {
			pod := newTestPod(t, s, "clone", nil)
			app, err := pod.AddContainer("app", nil)
			if err != nil {
				t.Fatal(err)
			}
			f, err := OpenDir(app)
			if s.Mode() != ModeUnified {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("OpenDir on v1 = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenDir: %v", err)
			}
			defer f.Close()
			cmd := testharness.HelperCmd("selfcgroup")
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != "0::"+app.Path() {
				t.Fatalf("helper cgroup = %q, want 0::%s", got, app.Path())
			}
		})
	}
}

// boundWithV1Pids puts pid into a host (v1) pids cgroup with a limit, so a
// forking helper tested in the controller-less v2 tree stays bounded.
func boundWithV1Pids(t *testing.T, pid int, limit int64) {
	t.Helper()
	host := hostSystem(t)
	t.Cleanup(func() {
		reapOrphans()
		if err := host.Remove(context.Background(), testParent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	lim, err := host.Create(testParent+"/limit", &Resources{Pids: &Pids{Max: limit}})
	if err != nil {
		t.Fatalf("pids limiter: %v", err)
	}
	if err := lim.AddProcess(pid); err != nil {
		t.Fatalf("pids limiter: %v", err)
	}
}

// TestAddProcessRefused: a refused move is a typed error and leaves the
// process where it was. v1: one hierarchy refuses (an empty cpuset) after
// others took the process, which are rolled back. v2: the pod cgroup has
// children with controllers, so the no-internal-process rule refuses it.
func TestAddProcessRefused(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	if s.v2() {
		pod := newTestPod(t, s, "refused", nil)
		h := startHelper(t, "sleeper")
		before, _ := os.ReadFile("/proc/" + itoa(int64(h.pid())) + "/cgroup")
		err := pod.Cgroup().AddProcess(h.pid())
		var ce *Error
		if !errors.As(err, &ce) || !errors.Is(err, unix.EBUSY) {
			t.Fatalf("AddProcess into the pod cgroup = %v, want EBUSY", err)
		}
		after, _ := os.ReadFile("/proc/" + itoa(int64(h.pid())) + "/cgroup")
		if string(before) != string(after) {
			t.Fatalf("process moved: %q -> %q", before, after)
		}
		return
	}
	pod := newTestPod(t, s, "rollback", nil)
	app, err := pod.AddContainer("app", &Resources{CPUSet: &CPUSet{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(app.Paths()["cpuset"]+"/cpuset.cpus", ""); err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "sleeper")
	before := procCgroups(h.pid())
	err = app.AddProcess(h.pid())
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("AddProcess into an empty cpuset = %v, want ENOSPC", err)
	}
	after := procCgroups(h.pid())
	for _, ctrl := range []string{"cpu", "cpuacct", "cpuset", "freezer", "memory", "pids"} {
		if before[ctrl] != after[ctrl] {
			t.Errorf("%s: %q -> %q, want unchanged", ctrl, before[ctrl], after[ctrl])
		}
	}
}

// TestCloneCpusetChildren: on v1 with a cpuset hierarchy, a cgroup made
// under the parent later (by anyone: here a plain mkdir, as libcontainer
// does) starts with the parent's cpus and mems; elsewhere it does nothing.
func TestCloneCpusetChildren(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	parent := testParent + "/clone"
	t.Cleanup(func() {
		if err := s.Remove(context.Background(), testParent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := s.CloneCpusetChildren("/"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("CloneCpusetChildren(/): %v, want ErrInvalidName", err)
	}
	if err := s.CloneCpusetChildren(parent); err != nil {
		t.Fatal(err)
	}
	mnt := s.l.v1["cpuset"]
	if mnt == "" || s.v2() {
		t.Log("no v1 cpuset hierarchy: nothing to do")
		return
	}
	child := mnt + parent + "/child"
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		got, _ := readFile(child + "/" + f)
		want, _ := readFile(mnt + "/" + f)
		if strings.TrimSpace(got) == "" || strings.TrimSpace(got) != strings.TrimSpace(want) {
			t.Errorf("%s of a new child: %q, want the root's %q", f, got, want)
		}
	}
}

// TestCloneCpusetChildrenOfBareParent: a parent another caller has just
// made, not yet given cpus and mems (concurrent pod creates), gets them
// before its children are cloned from it: a child made under an empty
// cpuset stays empty and refuses tasks (ENOSPC).
func TestCloneCpusetChildrenOfBareParent(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	mnt := s.l.v1["cpuset"]
	if mnt == "" || s.v2() {
		t.Log("no v1 cpuset hierarchy: nothing to do")
		return
	}
	parent := testParent + "/bare"
	t.Cleanup(func() {
		if err := s.Remove(context.Background(), testParent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	for _, d := range []string{mnt + testParent, mnt + parent} { // as a plain mkdir leaves them
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CloneCpusetChildren(parent); err != nil {
		t.Fatal(err)
	}
	child := mnt + parent + "/child"
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		if got, _ := readFile(child + "/" + f); strings.TrimSpace(got) == "" {
			t.Errorf("%s of a child of a parent made bare: empty", f)
		}
	}
}

// TestMkdirAll: the directory is made in every hierarchy Hierarchies
// lists (a v1 cpuset one ready to take tasks), again without error, and a
// bad path is refused with nothing made.
func TestMkdirAll(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	t.Cleanup(func() {
		if err := s.Remove(context.Background(), testParent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	for range 2 {
		dirs, err := s.MkdirAll(testParent + "/all/leaf")
		if err != nil {
			t.Fatal(err)
		}
		if len(dirs) == 0 || len(dirs) != len(s.Hierarchies()) {
			t.Fatalf("MkdirAll made %d directories for %d hierarchies", len(dirs), len(s.Hierarchies()))
		}
		for ctrl, mnt := range s.Hierarchies() {
			if dirs[ctrl] != mnt+testParent+"/all/leaf" {
				t.Errorf("%q: %q", ctrl, dirs[ctrl])
			}
			if st, err := os.Stat(dirs[ctrl]); err != nil || !st.IsDir() {
				t.Errorf("%q: %v", ctrl, err)
			}
		}
		if d := dirs["cpuset"]; d != "" {
			if cpus, _ := readFile(d + "/cpuset.cpus"); strings.TrimSpace(cpus) == "" {
				t.Errorf("cpuset %s has no cpus", d)
			}
		}
	}
	if _, err := s.MkdirAll("../escape"); !errors.Is(err, ErrEscape) {
		t.Errorf("MkdirAll(../escape): %v, want ErrEscape", err)
	}
}
