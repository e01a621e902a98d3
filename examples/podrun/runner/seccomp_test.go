//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestSeccompExample runs pods/seccomp.yaml: a RuntimeDefault, a
// Localhost and an Unconfined container.
func TestSeccompExample(t *testing.T) {
	testharness.Privileged(t)
	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	code, _, stderr := runPodrun(t, []string{"--run-dir", filepath.Join(dir, "run"), "--log-dir", logDir,
		"--cgroup-parent", "podkit-podrun-seccomp-test", "--no-network", "--seccomp-root", "../pods/seccomp",
		"../pods/seccomp.yaml"}, nil)
	if code != ExitSucceeded {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, want := range map[string][]string{
		"default":    {"Seccomp:\t2", "unshare refused"},
		"localhost":  {"Seccomp:\t2", "chmod refused"},
		"unconfined": {"Seccomp:\t0"},
	} {
		b, err := os.ReadFile(filepath.Join(logDir, "default_seccomp", name, "0.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: no %q in its log:\n%s", name, w, b)
			}
		}
	}
}
