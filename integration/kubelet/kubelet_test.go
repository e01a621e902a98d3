//go:build linux

package kubelet

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestKubelet is the kubelet test: in the VM (PODKIT_VM=1) it runs the
// kubelet against podkit-cri (guestKubelet); on the host it boots the VM
// that does.
func TestKubelet(t *testing.T) {
	testharness.Privileged(t)
	if os.Getenv("PODKIT_VM") != "" {
		guestKubelet(t)
		return
	}
	kubelet := filepath.Join(tool(t, "kubelet.sh"), "kubelet")
	crictl := filepath.Join(tool(t, "cri-tools.sh"), "crictl")
	// run.sh runs from the repository root; this package is run from its
	// own directory (integration/kubelet).
	cmd := exec.Command("../vm/run.sh", "./integration/kubelet")
	cmd.Env = append(os.Environ(), "PODKIT_VM_RUN=^TestKubelet$", "PODKIT_VM_EXTRA="+kubelet+" "+crictl,
		"PODKIT_VM_TIMEOUT=20m", "PODKIT_VM_TEST_TIMEOUT=15m", "PODKIT_VM_VERBOSE=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Log(lastLine(out.String(), "vm: kernel "))
	if err != nil {
		t.Fatalf("integration/vm/run.sh ./integration/kubelet: %v\n%s%s", err, guestLog(out.String()), tail(out.Bytes(), 20000))
	}
}

// tool runs integration/tools/<script>, which builds a tool once and
// prints its cache directory.
func tool(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "tools", script)).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("integration/tools/%s: %v\n%s", script, err, tail(stderr, 8000))
	}
	return strings.TrimSpace(string(out))
}

var logsDir = regexp.MustCompile(`logs in (/\S+)`)

// guestLog is the guest test's own output (which holds the kubelet's and
// podkit-cri's logs when it failed), from the VM run's log directory.
func guestLog(runOutput string) string {
	m := logsDir.FindAllStringSubmatch(runOutput, -1)
	if m == nil {
		return ""
	}
	files, _ := filepath.Glob(filepath.Join(m[len(m)-1][1], "results", "pkg-*.log"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			// test2json's framing bytes (^V) out.
			data = bytes.ReplaceAll(data, []byte{0x16}, nil)
			b.WriteString("--- guest " + filepath.Base(f) + ":\n" + tail(data, 60000) + "\n")
		}
	}
	return b.String()
}

func lastLine(s, prefix string) string {
	found := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			found = l
		}
	}
	return found
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
