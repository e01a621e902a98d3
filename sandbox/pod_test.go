//go:build linux

package sandbox

import (
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestTwoContainersShareNetUTSIPCAndVolume(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "share")
	cfg.Hostname = "pod-share"
	cfg.Volumes = []Volume{{Name: "data"}, {Name: "mem", Medium: MediumMemory, SizeLimit: 1 << 20}}
	cfg.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80", "kernel.shmmni": "1000"}
	sb := mustCreate(t, cfg)

	srv := ctr(rootfs, "server", "serve", "8080")
	run(t, sb, srv)
	eventually(t, "server listening", func() bool { return strings.Contains(logOf(t, sb, "server"), "listening") })

	run(t, sb, ctr(rootfs, "client", "get", "8080"))
	if es := waitExit(t, sb, "client"); es.ExitCode != 0 {
		t.Fatalf("client exit %+v: %s", es, logOf(t, sb, "client"))
	}
	if got := logOf(t, sb, "client"); !strings.Contains(got, "hello from pod-share") {
		t.Fatalf("client got %q", got)
	}
	run(t, sb, ctr(rootfs, "hn", "hostname"))
	waitExit(t, sb, "hn")
	if got := strings.TrimSpace(logOf(t, sb, "hn")); got != "pod-share" {
		t.Fatalf("hostname %q", got)
	}
	// SysV shared memory goes through the shared IPC namespace.
	run(t, sb, ctr(rootfs, "shmput", "shmput", "4242", "ipc-ok"))
	waitExit(t, sb, "shmput")
	run(t, sb, ctr(rootfs, "shmget", "shmget", "4242"))
	if es := waitExit(t, sb, "shmget"); es.ExitCode != 0 || !hasLine(logOf(t, sb, "shmget"), "ipc-ok") {
		t.Fatalf("shmget %+v: %q", es, logOf(t, sb, "shmget"))
	}
	// Volumes: written by one, read by another (disk and memory medium).
	for _, v := range []string{"data", "mem"} {
		w := ctr(rootfs, "w-"+v, "write", "/vol/f", "from-writer-"+v)
		w.Mounts = []Mount{{Destination: "/vol", Volume: v}}
		run(t, sb, w)
		waitExit(t, sb, w.Name)
		r := ctr(rootfs, "r-"+v, "cat", "/vol/f")
		r.Mounts = []Mount{{Destination: "/vol", Volume: v, ReadOnly: true}}
		run(t, sb, r)
		if es := waitExit(t, sb, r.Name); es.ExitCode != 0 || logOf(t, sb, r.Name) != "from-writer-"+v {
			t.Fatalf("volume %s: %+v %q", v, es, logOf(t, sb, r.Name))
		}
	}
}
