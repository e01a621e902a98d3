//go:build linux

package sandbox

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestRootEscapeFindsNothing climbs out of a fast-path container's root
// (enterRoot moves the rootfs onto its namespace's root and chroots, where
// pivot_root would have detached what was beneath): what lies above must
// be the base namespace's empty tmpfs, nothing of the host. The
// differential test checks that the container may still create a user
// namespace, which the kernel refuses a chrooted process.
func TestRootEscapeFindsNothing(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	out := runFastPayload(t, rootfs, "CAP_SYS_CHROOT", "escape")
	allowed := []string{strings.TrimPrefix(baseRootDir, "/")}
	ents, err := os.ReadDir(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		allowed = append(allowed, e.Name()) // an escape that did not climb
	}
	for _, name := range strings.Fields(out) {
		if !slices.Contains(allowed, name) {
			t.Errorf("above the container's root: %q (allowed %q)", name, allowed)
		}
	}
}

// TestNestedPivotRoot runs what a container runtime inside a fast-path
// container does, pivot_root in a mount namespace of its own: the
// container's root sits on its namespace's root rather than being it,
// which pivot_root allows.
func TestNestedPivotRoot(t *testing.T) {
	testharness.Privileged(t)
	if out := runFastPayload(t, testRootfs(t), "CAP_SYS_ADMIN", "nested-pivot"); strings.TrimSpace(out) != "pivoted" {
		t.Fatalf("nested pivot_root: %s", out)
	}
}

// runFastPayload runs the test payload's command on the fast path, in a
// pod of its own, with one capability, and returns its output once it
// has exited 0.
func runFastPayload(t *testing.T, rootfs, capability, command string) string {
	t.Helper()
	sb := mustCreate(t, testConfig(t, command))
	spec := ctr(rootfs, "c", command)
	spec.StartPath = StartFast
	spec.Capabilities = []string{capability}
	run(t, sb, spec)
	if es := waitExit(t, sb, "c"); es.ExitCode != 0 {
		t.Fatalf("%s: %+v %s", command, es, logOf(t, sb, "c"))
	}
	checkPath(t, sb, "c", StartFast, false)
	return logOf(t, sb, "c")
}
