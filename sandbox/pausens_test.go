//go:build linux

package sandbox

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/internal/testharness"
)

// TestPauseHoldsThePinnedNamespaces: however the pause is started (forked
// into namespaces created beforehand, or creating them itself when it
// dies with its parent), it is in exactly the pinned namespaces, PID 1 of
// a shared PID namespace, and in its cgroup leaf.
func TestPauseHoldsThePinnedNamespaces(t *testing.T) {
	testharness.Privileged(t)
	for _, tc := range []struct {
		name               string
		sharePID, dieWithP bool
	}{
		{"default", false, false},
		{"shared-pid", true, false},
		{"die-with-parent", false, true},
		{"die-with-parent-shared-pid", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "pausens-"+tc.name)
			cfg.SharePID, cfg.DieWithParent = tc.sharePID, tc.dieWithP
			sb := mustCreate(t, cfg)
			pid := sb.PausePid()
			pins := sb.Namespaces()
			want := []string{"net", "ipc", "uts"}
			if tc.sharePID {
				want = append(want, "pid")
			}
			if len(pins) != len(want) {
				t.Fatalf("pins %v, want %v", pins, want)
			}
			for _, kind := range want {
				var pin, held unix.Stat_t
				if err := unix.Stat(pins[kind], &pin); err != nil {
					t.Fatalf("%s pin: %v", kind, err)
				}
				if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/"+kind, &held); err != nil {
					t.Fatalf("%s of the pause: %v", kind, err)
				}
				if pin.Dev != held.Dev || pin.Ino != held.Ino {
					t.Errorf("%s: pinned %d:%d, the pause is in %d:%d", kind, pin.Dev, pin.Ino, held.Dev, held.Ino)
				}
			}
			nspid := strings.Fields(statusFields(readProc(pid, "status"))["NSpid"])
			if inner := nspid[len(nspid)-1]; tc.sharePID != (inner == "1") {
				t.Errorf("NSpid %q with SharePID %v", nspid, tc.sharePID)
			}
			leaf := "/" + cfg.CgroupParent + "/" + cfg.ID + "/pause"
			for _, line := range strings.Split(strings.TrimSpace(readProc(pid, "cgroup")), "\n") {
				f := strings.SplitN(line, ":", 3)
				v1Managed := strings.Contains(","+f[1]+",", ",memory,") || strings.Contains(","+f[1]+",", ",pids,")
				v2Only := f[0] == "0" && !strings.Contains(readProc(pid, "cgroup"), "memory")
				if (v1Managed || v2Only) && f[2] != leaf {
					t.Errorf("pause cgroup line %q, want %s", line, leaf)
				}
			}
			threadsStayedHome(t, cfg.ID)
		})
	}
}

// threadsStayedHome checks that no thread of the test process is left in
// the pod's cgroups or namespaces: the thread that forked a DieWithParent
// pause parks for its life, back in the manager's.
func threadsStayedHome(t *testing.T, id string) {
	t.Helper()
	own, _ := os.Readlink("/proc/self/ns/net")
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		dir := "/proc/self/task/" + task.Name()
		cg, _ := os.ReadFile(dir + "/cgroup")
		if strings.Contains(string(cg), "/"+id+"/") {
			t.Errorf("thread %s is in the pod's cgroups:\n%s", task.Name(), cg)
		}
		if ns, err := os.Readlink(dir + "/ns/net"); err == nil && ns != own {
			t.Errorf("thread %s is in network namespace %s, the process in %s", task.Name(), ns, own)
		}
	}
}
