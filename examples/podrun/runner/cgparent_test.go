//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestCgroupParentOwnership runs a pod under a cgroup parent podrun makes
// (removed with the pod) and under one that exists before, with a memory
// limit (left in place with its limit).
func TestCgroupParentOwnership(t *testing.T) {
	testharness.Privileged(t)
	const parent = "podkit-podrun-owned"
	memDir, limitFile, limit := "/sys/fs/cgroup/memory/"+parent, "memory.limit_in_bytes", "67108864"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		memDir, limitFile, limit = "/sys/fs/cgroup/"+parent, "memory.max", "67108864"
	}
	t.Cleanup(func() { removeTestParent(parent) })
	args, _ := lifecycleArgs(t)
	args[5] = parent // --cgroup-parent
	pod := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(pod, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: owned}\nspec:\n  restartPolicy: Never\n"+
		"  containers:\n  - {name: c, image: host, command: [true]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runPodrun(t, append(args, pod), nil); code != ExitSucceeded {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(memDir); err == nil {
		t.Errorf("%s stayed after the pod: podrun made it", memDir)
	}

	if err := os.Mkdir(memDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(memDir, limitFile), []byte(limit), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runPodrun(t, append(args, pod), nil); code != ExitSucceeded {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(filepath.Join(memDir, limitFile))
	if err != nil {
		t.Fatalf("the parent made before podrun is gone: %v", err)
	}
	if string(got) != limit+"\n" {
		t.Errorf("%s: %q, want %s", limitFile, got, limit)
	}
}

// removeTestParent removes a test's cgroup parent in every hierarchy.
func removeTestParent(parent string) {
	for _, h := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", h, parent))
	}
}
