//go:build linux

package sandbox

import (
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestSecurityDefaults(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "sec"))
	run(t, sb, ctr(rootfs, "status", "cat", "/proc/self/status"))
	waitExit(t, sb, "status")
	out := logOf(t, sb, "status")
	// The runtime-default set (containerd/CRI-O/docker): 0xa80425fb.
	for _, want := range []string{"NoNewPrivs:\t1", "CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	ro := ctr(rootfs, "ro", "write", "/newfile", "x")
	ro.ReadOnlyRootfs = true
	run(t, sb, ro)
	if es := waitExit(t, sb, "ro"); es.ExitCode == 0 || !strings.Contains(logOf(t, sb, "ro"), "read-only file system") {
		t.Errorf("write to read-only rootfs: %+v %q", es, logOf(t, sb, "ro"))
	}
	run(t, sb, ctr(rootfs, "masked", "cat", "/proc/timer_list"))
	if es := waitExit(t, sb, "masked"); es.ExitCode != 0 || logOf(t, sb, "masked") != "" {
		t.Errorf("/proc/timer_list not masked: %+v", es)
	}
	run(t, sb, ctr(rootfs, "procsys", "write", "/proc/sys/kernel/hostname", "x"))
	if es := waitExit(t, sb, "procsys"); es.ExitCode == 0 {
		t.Errorf("/proc/sys writable")
	}
	etc := ctr(rootfs, "etc", "cat", "/etc/hosts")
	run(t, sb, etc)
	waitExit(t, sb, "etc")
	if !strings.Contains(logOf(t, sb, "etc"), "127.0.1.1\tsec") {
		t.Errorf("/etc/hosts: %q", logOf(t, sb, "etc"))
	}
}
