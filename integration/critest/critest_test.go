//go:build linux

package critest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// critestPassList lists, one full ginkgo spec text a line, the critest
// specs podkit-cri passes. TestCritest runs them and fails if one fails; the
// list grows with the server (PODKIT_CRITEST_ALL=1 shows what else passes).
const critestPassList = "testdata/critest-pass.txt"

// critestCannotPass are specs that cannot pass on this host or offline,
// with the reason; they are reported, never run.
var critestCannotPass = map[string]string{
	`Image Manager public image with digest`: "pulls an upstream image by its digest: no image built offline can have it",
	`NRI`:                                    "needs an NRI socket (-nri-socket), which podkit-cri does not serve",
	`AppArmor`:                               "AppArmor is not enabled on this host",
	`SELinux`:                                "SELinux is not enabled on this host",
}

// TestCritest runs cri-tools' critest (v1.37.0, built by
// integration/tools/cri-tools.sh) against podkit-cri, with the suite's
// images served from a registry on 127.0.0.1 through --registry-mirror.
// PODKIT_CRITEST_ALL=1 runs every spec (but those that cannot pass here)
// and only reports.
func TestCritest(t *testing.T) {
	testharness.Privileged(t)
	tools := criTools(t)
	rt := startRuntime(t)
	sock := rt.sock
	all := os.Getenv("PODKIT_CRITEST_ALL") != ""
	report := filepath.Join(t.TempDir(), "critest.json")
	args := []string{"-runtime-endpoint", "unix://" + sock, "-image-endpoint", "unix://" + sock,
		"-ginkgo.no-color", "-ginkgo.json-report", report, "-ginkgo.skip", strings.Join(keys(critestCannotPass), "|")}
	if !all {
		b, err := os.ReadFile(critestPassList)
		if err != nil {
			t.Fatal(err)
		}
		var focus []string
		for _, name := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			focus = append(focus, regexp.QuoteMeta(name)+"$") // ginkgo prefixes the suite's own text
		}
		args = append(args, "-ginkgo.focus", strings.Join(focus, "|"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(tools, "critest"), args...)
	cmd.Dir = t.TempDir()
	out, runErr := cmd.CombinedOutput()
	// Specs that fail may leave pods behind: remove them through the runtime.
	crictl := exec.Command(filepath.Join(tools, "crictl"), "-r", "unix://"+sock, "-i", "unix://"+sock, "rmp", "-af")
	if msg, err := crictl.CombinedOutput(); err != nil {
		t.Errorf("crictl rmp -af: %v: %s", err, msg)
	}
	if all {
		unmountCritestLeftovers(t)
	}
	specs, err := readGinkgoReport(report)
	if err != nil {
		t.Fatalf("critest: %v (%v)\n%s", err, runErr, out)
	}
	counts := map[string]int{}
	var failed, passed []string
	for _, s := range specs {
		counts[s.State]++
		switch s.State {
		case "failed", "panicked", "timedout":
			failed = append(failed, s.Name+"\n    "+firstLine(s.Failure))
		case "passed":
			passed = append(passed, s.Name)
		}
	}
	if all { // the pass list as it would be now
		sort.Strings(passed)
		t.Logf("passing specs:\n%s", strings.Join(passed, "\n"))
	}
	t.Logf("critest: %d passed, %d failed, %d skipped (cannot pass here: %v)", counts["passed"],
		len(failed), counts["skipped"], critestCannotPass)
	for _, f := range failed {
		if all {
			t.Logf("FAILED %s", f)
		} else {
			t.Errorf("FAILED %s", f)
		}
	}
	if !all && counts["passed"] == 0 {
		t.Errorf("no critest spec passed:\n%s", out)
	}
}

type ginkgoSpec struct {
	Name, State, Failure string
}

// readGinkgoReport reads the It specs of a ginkgo JSON report.
func readGinkgoReport(path string) ([]ginkgoSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var suites []struct {
		SpecReports []struct {
			ContainerHierarchyTexts []string
			LeafNodeText            string
			LeafNodeType            string
			State                   string
			Failure                 struct{ Message string }
		}
	}
	if err := json.Unmarshal(b, &suites); err != nil {
		return nil, err
	}
	var out []ginkgoSpec
	for _, s := range suites {
		for _, r := range s.SpecReports {
			if r.LeafNodeType != "It" {
				continue
			}
			name := strings.Join(append(r.ContainerHierarchyTexts, r.LeafNodeText), " ")
			out = append(out, ginkgoSpec{Name: name, State: r.State, Failure: r.Failure.Message})
		}
	}
	return out, nil
}

// criTools builds (or finds cached) crictl and critest.
func criTools(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("../tools/cri-tools.sh").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("integration/tools/cri-tools.sh: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func removeCgroupParent(name string) {
	for _, h := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", h, name))
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// critestMount is a host mount the mount propagation specs make under /tmp
// and leave when they fail.
var critestMount = regexp.MustCompile(`^/tmp/test[0-9a-f]{40,}/`)

func unmountCritestLeftovers(t *testing.T) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if f := strings.Fields(lines[i]); len(f) > 4 && critestMount.MatchString(f[4]+"/") {
			_ = unix.Unmount(f[4], unix.MNT_DETACH)
			_ = os.RemoveAll(filepath.Dir(f[4]))
		}
	}
}
