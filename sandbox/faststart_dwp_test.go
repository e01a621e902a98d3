//go:build linux

package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestFastPathDieWithParent: a DieWithParent pod's containers take the
// fast path (the parent-death signal is set at the init's exec stop, as
// Go's fork cannot in another PID namespace), and the forking thread that
// stays parked for the signal has left the container's cgroups: freezing
// or killing the container must not reach the manager. That the
// containers die with their manager is TestDieWithParent's.
func TestFastPathDieWithParent(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	for _, sharePID := range []bool{false, true} {
		t.Run("sharePID="+strconv.FormatBool(sharePID), func(t *testing.T) {
			cfg := testConfig(t, "fastdwp-"+strconv.FormatBool(sharePID))
			cfg.DieWithParent, cfg.SharePID = true, sharePID
			sb := mustCreate(t, cfg)
			run(t, sb, ctr(rootfs, "app", "sleep"))
			checkPath(t, sb, "app", StartFast, sharePID)
			st := statusOf(sb, "app")
			if st.State != ContainerRunning {
				t.Fatalf("app: %+v (killed by its parent-death signal at start?)", st)
			}
			for _, dir := range v1ProcDirs(t, st.Pid) {
				b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(strings.Fields(string(b)), strconv.Itoa(os.Getpid())) {
					t.Errorf("the manager is in the container's cgroup %s", dir)
				}
			}
			if err := sb.StopContainer(context.Background(), "app", 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// v1ProcDirs are the v1 cgroup directories of process pid (none on v2).
func v1ProcDirs(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 || f[1] == "" {
			continue
		}
		mnt := strings.TrimPrefix(f[1], "name=")
		if d := filepath.Join("/sys/fs/cgroup", mnt, f[2]); isDir(d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func isDir(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
