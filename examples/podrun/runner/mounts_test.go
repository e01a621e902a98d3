//go:build linux

package runner

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// TestMountsPod runs pods/mounts.yaml and checks what its containers saw:
// the subPathExpr and subPath directories of the emptyDir, fsGroup and
// supplementalGroups, a read-only mount at a path missing on the host
// (not created there), the pod's /dev/shm across containers, and the
// container's memory limit in /sys/fs/cgroup.
func TestMountsPod(t *testing.T) {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	const cgParent = "podkit-runner-mounts"
	t.Cleanup(func() { removeTestParent(cgParent) })
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr strings.Builder
	code := Main(ctx, []string{"--no-network", "--run-dir", tmp + "/run", "--log-dir", tmp + "/logs", "--cgroup-parent", cgParent,
		"../pods/mounts.yaml"}, io.Discard, &stderr, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	read := func(ctr string) string {
		b, err := os.ReadFile(filepath.Join(tmp, "logs", "default_mounts", ctr, "0.log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	limit := "reader: memory limit in /sys/fs/cgroup: " + strconv.Itoa(64<<20) // v1 and v2 alike
	for ctr, want := range map[string][]string{
		"writer": {"writer: uid 1000 gid 1000 groups 1000 2000 3000", "writer: /out (subPathExpr $(POD_NAME)/out) is group 2000 drwxrwsrwx"},
		"reader": {"reader: groups 1000 2000 3000", "reader: volume root /vol is group 2000 drwxrwsrwx",
			"reader: /usr/share/podrun-demo/msg: written by the writer", "reader: /usr/share/podrun-demo is read-only",
			"reader: /dev/shm/podrun-note: a note in the pod's shm (size=65536k)", limit},
	} {
		log := read(ctr)
		for _, w := range want {
			if !strings.Contains(log, " stdout F "+w+"\n") {
				t.Errorf("%s's log lacks %q:\n%s", ctr, w, log)
			}
		}
	}
	if _, err := os.Lstat("/usr/share/podrun-demo"); err == nil {
		t.Fatal("the mount point was created on the host")
	}
}
