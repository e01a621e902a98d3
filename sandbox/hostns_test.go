//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// TestHostPIDAndIPC: with HostPID and HostIPC (with a pause, pinned-only,
// die-with-parent) containers and Exec are in the host's PID and IPC
// namespaces: nothing is pinned for them, a container sees the test
// process and writes a SysV segment the host reads; Status and List report
// it, and Remove destroys it.
func TestHostPIDAndIPC(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	hostNS := func(kind string) string {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for i, v := range []struct {
		name string
		set  func(*Config)
	}{
		{"hostpid", func(*Config) {}},
		{"hostpid-nopause", func(c *Config) { c.NoPause = true }},
		{"hostpid-dwp", func(c *Config) { c.DieWithParent = true }},
	} {
		t.Run(v.name, func(t *testing.T) {
			cfg := testConfig(t, v.name)
			cfg.HostPID, cfg.HostIPC = true, true
			cfg.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80"}
			v.set(&cfg)
			sb := mustCreate(t, cfg)
			for _, k := range []string{"pid", "ipc"} {
				if _, ok := sb.Namespaces()[k]; ok {
					t.Fatalf("%s pinned: %v", k, sb.Namespaces())
				}
			}
			if got := sb.Status().HostNamespaces; !slices.Equal(got, []string{"pid", "ipc"}) {
				t.Fatalf("Status.HostNamespaces %v", got)
			}
			run(t, sb, ctr(rootfs, "sleep", "sleep"))
			pid := statusOf(sb, "sleep").Pid
			for _, k := range []string{"pid", "ipc"} {
				if ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + k); err != nil || ns != hostNS(k) {
					t.Fatalf("container %s %q (%v), host %q", k, ns, err, hostNS(k))
				}
			}
			// Exec sees the host's processes, the test process among them.
			var out bytes.Buffer
			es, err := sb.Exec(context.Background(), "sleep", ExecSpec{Args: []string{"/payload", "ps"}, Stdout: &out})
			if err != nil || es.ExitCode != 0 {
				t.Fatalf("exec ps: %v %+v", err, es)
			}
			if !strings.Contains(out.String(), "\n"+strconv.Itoa(os.Getpid())+" ") {
				t.Fatalf("test process %d not seen from the container:\n%.2000s", os.Getpid(), out.String())
			}
			key := 0x70d0 + i
			run(t, sb, ctr(rootfs, "shm", "shmput", strconv.Itoa(key), "from "+v.name))
			if es := waitExit(t, sb, "shm"); es.ExitCode != 0 {
				t.Fatalf("shmput: %+v %s", es, logOf(t, sb, "shm"))
			}
			id, err := unix.SysvShmGet(key, 4096, 0)
			if err != nil {
				t.Fatalf("the container's segment is not in the host's IPC namespace: %v", err)
			}
			b, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
			if err == nil {
				got := strings.TrimRight(string(b), "\x00")
				_ = unix.SysvShmDetach(b)
				if got != "from "+v.name {
					t.Errorf("segment holds %q", got)
				}
			}
			_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
			infos, err := List(cfg.RunDir)
			if err != nil || len(infos) != 1 || !infos[0].Config.HostPID || !infos[0].Config.HostIPC {
				t.Fatalf("List: %v %+v", err, infos)
			}
			if err := Remove(context.Background(), cfg.RunDir, cfg.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHostNamespacesRefused: conflicting host-namespace settings are
// invalid configurations naming the field; nothing is created.
func TestHostNamespacesRefused(t *testing.T) {
	testharness.Privileged(t)
	for field, cfg := range map[string]Config{
		"Config.SharePID": {ID: "hp", HostPID: true, SharePID: true},
		"Config.Sysctls":  {ID: "hi", HostIPC: true, Sysctls: map[string]string{"kernel.shm_rmid_forced": "1"}},
	} {
		requireConfigRefused(t, field, cfg)
	}
}
