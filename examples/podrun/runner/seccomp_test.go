//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libctseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/podkit/podkit/internal/testharness"
)

// TestSeccompExample runs pods/seccomp.yaml: a RuntimeDefault, a
// Localhost and an Unconfined container.
func TestSeccompExample(t *testing.T) {
	testharness.Privileged(t)
	if !libctseccomp.Enabled {
		msg := "built without -tags seccomp (needs libseccomp-dev): containers cannot get a profile"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	code, recs, stderr := runPodrun(t, []string{"--run-dir", filepath.Join(dir, "run"), "--log-dir", logDir,
		"--cgroup-parent", "podkit-podrun-seccomp-test", "--no-network", "--seccomp-root", "../pods/seccomp",
		"../pods/seccomp.yaml"}, nil)
	if code != ExitSucceeded {
		t.Fatalf("exit %d: %s %+v", code, stderr, recs)
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
