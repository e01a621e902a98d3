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
	sb := mustCreate(t, testConfig(t, "escape"))
	spec := ctr(rootfs, "esc", "escape")
	spec.StartPath = StartFast
	spec.Capabilities = []string{"CAP_SYS_CHROOT"}
	run(t, sb, spec)
	if es := waitExit(t, sb, "esc"); es.ExitCode != 0 {
		t.Fatalf("escape: %+v %s", es, logOf(t, sb, "esc"))
	}
	checkPath(t, sb, "esc", StartFast, false)
	allowed := []string{strings.TrimPrefix(baseRootDir, "/")}
	ents, err := os.ReadDir(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		allowed = append(allowed, e.Name()) // an escape that did not climb
	}
	for _, name := range strings.Fields(logOf(t, sb, "esc")) {
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
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "nested"))
	spec := ctr(rootfs, "nest", "nested-pivot")
	spec.StartPath = StartFast
	spec.Capabilities = []string{"CAP_SYS_ADMIN"}
	run(t, sb, spec)
	if es := waitExit(t, sb, "nest"); es.ExitCode != 0 || strings.TrimSpace(logOf(t, sb, "nest")) != "pivoted" {
		t.Fatalf("nested pivot_root: %+v %s", es, logOf(t, sb, "nest"))
	}
	checkPath(t, sb, "nest", StartFast, false)
}
