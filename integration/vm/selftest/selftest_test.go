//go:build linux

package selftest

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/internal/testharness"
)

const cgroupRoot = "/sys/fs/cgroup"

func TestMain(m *testing.M) { testharness.Main(m) }

func init() {
	// print-cgroup prints the helper's own cgroup v2 path.
	testharness.RegisterHelper("print-cgroup", func() int {
		p, err := ownCgroup()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print(p)
		return 0
	})
}

// requireV2 skips on a host whose /sys/fs/cgroup is not cgroup2 (the v1
// hybrid dev host) unless PODKIT_VM=1 says this is the VM, where it fails.
func requireV2(t *testing.T) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		t.Fatalf("statfs %s: %v", cgroupRoot, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return
	}
	if os.Getenv("PODKIT_VM") == "1" {
		t.Fatalf("%s has filesystem magic %#x, want cgroup2 (%#x)", cgroupRoot, st.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	t.Skipf("%s is not cgroup2 here; the cgroup v2 VM lane (integration/vm/run.sh) runs this test", cgroupRoot)
}

// ownCgroup returns the v2 cgroup path of the calling process, failing when
// /proc/self/cgroup names any v1 hierarchy.
func ownCgroup() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "0::/") {
		return "", fmt.Errorf("/proc/self/cgroup is %q, want a single 0::/... line", data)
	}
	return strings.TrimPrefix(lines[0], "0::"), nil
}

func readFields(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func TestPureCgroupV2(t *testing.T) {
	testharness.Privileged(t)
	requireV2(t)

	own, err := ownCgroup()
	if err != nil {
		t.Fatal(err)
	}
	// How the test's cgroup is set up is the lane's promise; a v2 host
	// outside the VM (PODKIT_VM unset) may delegate differently.
	lane := t.Errorf
	if os.Getenv("PODKIT_VM") != "1" {
		lane = t.Logf
	}
	if own == "/" {
		lane("test runs in the root cgroup; the lane must run tests from a child cgroup")
	}
	parent := filepath.Join(cgroupRoot, filepath.Dir(own))
	enabled := readFields(t, filepath.Join(parent, "cgroup.subtree_control"))
	for _, c := range []string{"memory", "pids", "cpu"} {
		if !slices.Contains(enabled, c) {
			lane("controller %s not in %s/cgroup.subtree_control %v", c, parent, enabled)
		}
	}
	if got := readFields(t, filepath.Join(cgroupRoot, own, "cgroup.type")); !slices.Equal(got, []string{"domain"}) {
		lane("cgroup.type of %s is %v, want domain", own, got)
	}

	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 2 && fields[2] == "cgroup" {
			t.Errorf("cgroup v1 hierarchy mounted: %s", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestCloneIntoLimitedCgroup creates a podkit-prefixed cgroup with memory and
// pids limits and starts a helper directly inside it (clone3 CLONE_INTO_CGROUP),
// proving cgroup creation, limits and helper re-execution all work.
func TestCloneIntoLimitedCgroup(t *testing.T) {
	testharness.Privileged(t)
	requireV2(t)

	dir := filepath.Join(cgroupRoot, "podkit-vm-selftest-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	limits := map[string]string{"memory.max": "67108864", "pids.max": "16", "cpu.max": "50000 100000"}
	for file, v := range limits {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			t.Fatalf("write %s: %v", file, err)
		}
		if got := strings.Join(readFields(t, filepath.Join(dir, file)), " "); got != v {
			t.Errorf("%s reads %q after writing %q", file, got, v)
		}
	}

	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := testharness.HelperCmd("print-cgroup")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper in %s: %v", dir, err)
	}
	if want := "/" + filepath.Base(dir); string(out) != want {
		t.Errorf("helper ran in cgroup %q, want %q", out, want)
	}
}

// TestPrebuiltBinariesAreStatic checks that every binary the lane prebuilt
// for the harness (PODKIT_PREBUILT) runs without a dynamic loader.
func TestPrebuiltBinariesAreStatic(t *testing.T) {
	testharness.Privileged(t)
	dir := os.Getenv("PODKIT_PREBUILT")
	if dir == "" {
		t.Skip("PODKIT_PREBUILT is not set (only the VM lane sets it)")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("%s is empty", dir)
	}
	for _, e := range entries {
		f, err := elf.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s needs a dynamic loader", e.Name())
			}
		}
		f.Close()
	}
}

// TestLaneModulesLoaded checks that the VM loaded the modules podkit's
// network and rootfs tests need (veth, bridge, overlay).
func TestLaneModulesLoaded(t *testing.T) {
	testharness.Privileged(t)
	if os.Getenv("PODKIT_VM") != "1" {
		t.Skip("not in the VM lane (PODKIT_VM=1 unset): the host's modules are its own business")
	}
	for _, m := range []string{"veth", "bridge"} {
		if _, err := os.Stat(filepath.Join("/sys/module", m)); err != nil {
			t.Errorf("module %s not loaded: %v", m, err)
		}
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(fs)), "overlay") {
		t.Errorf("overlay not in /proc/filesystems:\n%s", fs)
	}
}
