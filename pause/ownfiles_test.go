//go:build linux

package pause_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// TestSpawnOwnFiles: where its C stage is built (cgo on amd64, as CI
// builds), a pause outside a new PID namespace is forked without a copy of
// the manager's descriptor table, and holds exactly the descriptors it is
// given: /dev/null on 0-2 and its events FIFO on 4, none of the manager's
// many others.
func TestSpawnOwnFiles(t *testing.T) {
	testharness.Privileged(t)
	if !pause.OwnFilesBuilt {
		t.Skip("no C stage in this build (cgo on amd64): every pause is forked by syscall.ForkExec")
	}
	for range 64 { // a manager of many pods
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	evr, evw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer evr.Close()
	p := startByCStage(t, pause.Options{Path: testharness.PauseBinary(t), Events: evw, DropEvents: true})
	evw.Close()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range ents {
		got[e.Name()], _ = os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", p.Pid), e.Name()))
	}
	evTarget, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", evr.Fd()))
	want := map[string]string{"0": os.DevNull, "1": os.DevNull, "2": os.DevNull, "4": evTarget}
	for fd, target := range want {
		if got[fd] != target {
			t.Errorf("pause fd %s -> %q, want %q (all: %v)", fd, got[fd], target, got)
		}
	}
	for fd := range got {
		if _, ok := want[fd]; !ok && !slices.Contains([]string{"3"}, fd) {
			t.Errorf("pause holds fd %s -> %s", fd, got[fd])
		}
	}
}

// startByCStage starts a pause with o, killed and reaped when t ends, and
// fails t unless the C stage forked it.
func startByCStage(t *testing.T, o pause.Options) *pause.Process {
	t.Helper()
	before := pause.OwnFilesSpawns()
	p, err := pause.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		p.Wait()
		p.Close()
	})
	if n := pause.OwnFilesSpawns() - before; n != 1 {
		t.Fatalf("%d pauses forked without a copy of the descriptor table, want 1", n)
	}
	return p
}

// TestSpawnOwnFilesExecFails: the pause's exec failing in the C stage is
// Spawn's error, as syscall.ForkExec's would be, with the child reaped.
func TestSpawnOwnFilesExecFails(t *testing.T) {
	testharness.Privileged(t)
	notExec := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(notExec, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := pause.Spawn(context.Background(), pause.Options{Path: notExec})
	var pe *pause.Error
	if !errors.Is(err, syscall.EACCES) || !errors.As(err, &pe) || pe.Path != notExec {
		t.Fatalf("Spawn of a file that is not executable: %v; want EACCES naming it", err)
	}
}

// TestSpawnOwnFilesIntoCgroup: the C stage clones into a cgroup v2
// directory (CLONE_INTO_CGROUP), as the sandbox forks a pause on cgroup v2
// (the unified hierarchy of a hybrid host works too).
func TestSpawnOwnFilesIntoCgroup(t *testing.T) {
	testharness.Privileged(t)
	if !pause.OwnFilesBuilt {
		t.Skip("no C stage in this build (cgo on amd64)")
	}
	root := "/sys/fs/cgroup"
	var st syscall.Statfs_t
	if syscall.Statfs(root, &st); st.Type != 0x63677270 { // CGROUP2_SUPER_MAGIC
		root = "/sys/fs/cgroup/unified"
	}
	dir := filepath.Join(root, "podkit-ownfiles-test")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) }) // after the pause is reaped below
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := startByCStage(t, pause.Options{Path: testharness.PauseBinary(t), UseCgroupFD: true, CgroupFD: int(d.Fd())})
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.Pid))
	if err != nil || !slices.Contains(strings.Split(string(cg), "\n"), "0::/podkit-ownfiles-test") {
		t.Fatalf("pause's cgroups: %q, %v; want 0::/podkit-ownfiles-test", cg, err)
	}
}

// TestSpawnOwnFilesNofile: the pause gets the soft RLIMIT_NOFILE the
// manager started with, which Go raised for itself, as syscall.ForkExec's
// children do (a command of an init-mode pause inherits it): a manager
// started under a soft limit of 1024 (this binary as a helper, under
// prlimit) forks a pause with 1024.
func TestSpawnOwnFilesNofile(t *testing.T) {
	testharness.Privileged(t)
	if !pause.OwnFilesBuilt {
		t.Skip("no C stage in this build (cgo on amd64)")
	}
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux): %v", err)
	}
	cmd := testharness.HelperCmd("nofile-pause", testharness.PauseBinary(t))
	cmd.Args = append([]string{prlimit, "--nofile=1024:", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = prlimit
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1024" {
		t.Fatalf("the pause's soft open files limit: %q, %v; want 1024", out, err)
	}
}

// helperNofilePause starts the pause os.Args[1] and prints its open files
// soft limit.
func helperNofilePause() int {
	before := pause.OwnFilesSpawns()
	p, err := pause.Start(context.Background(), pause.Options{Path: os.Args[1]})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer func() {
		p.Signal(syscall.SIGKILL)
		p.Wait()
		p.Close()
	}()
	if pause.OwnFilesSpawns() == before {
		fmt.Println("forked the usual way")
		return 1
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.Pid))
	for _, l := range strings.Split(string(limits), "\n") {
		if f := strings.Fields(l); len(f) == 6 && f[0] == "Max" && f[1] == "open" {
			fmt.Println(f[3])
			return 0
		}
	}
	fmt.Println("no open files line", err)
	return 1
}

func init() { testharness.RegisterHelper("nofile-pause", helperNofilePause) }
