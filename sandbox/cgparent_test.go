//go:build linux

package sandbox

import (
	"context"
	"os"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestCgroupParentRemoval: Destroy removes the CgroupParent directories it
// leaves empty, in every hierarchy (the last pod to leave a parent
// removes it), unless KeepCgroupParent says the parent is someone else's
// (a kubelet's pod cgroup, whose QoS parents carry its limits): then only
// the pod cgroup goes.
func TestCgroupParentRemoval(t *testing.T) {
	for _, keep := range []bool{false, true} {
		name := map[bool]string{false: "removed", true: "kept"}[keep]
		t.Run(name, func(t *testing.T) {
			testharness.Privileged(t)
			sys, err := cgroupSystem()
			if err != nil {
				t.Fatal(err)
			}
			const parent = "podkit-sandbox-parent/qos"
			t.Cleanup(func() { // after the check below, before the leak check
				for _, root := range sys.Roots() {
					_ = os.Remove(root + "/" + parent)
					_ = os.Remove(root + "/podkit-sandbox-parent")
				}
			})
			cfg := testConfig(t, "parent-"+name)
			cfg.CgroupParent, cfg.KeepCgroupParent = parent, keep
			parentExists := func() bool {
				ok, err := CgroupParentExists(parent)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if parentExists() {
				t.Fatal("the parent exists before the pod")
			}
			sb, err := Create(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !parentExists() {
				t.Fatal("CgroupParentExists does not see the parent Create made")
			}
			var made []string // the hierarchies the pod cgroup is in
			for _, root := range sys.Roots() {
				if _, err := os.Stat(root + "/" + parent + "/" + cfg.ID); err == nil {
					made = append(made, root)
				}
			}
			if len(made) == 0 {
				t.Fatal("no pod cgroup in any hierarchy")
			}
			if err := sb.Destroy(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, root := range made {
				if _, err := os.Stat(root + "/" + parent + "/" + cfg.ID); !os.IsNotExist(err) {
					t.Errorf("%s: the pod cgroup is still there (%v)", root, err)
				}
				for _, dir := range []string{root + "/" + parent, root + "/podkit-sandbox-parent"} {
					_, err := os.Stat(dir)
					if kept := err == nil; kept != keep {
						t.Errorf("%s: kept %v, want %v (%v)", dir, kept, keep, err)
					}
				}
			}
			if parentExists() != keep {
				t.Errorf("CgroupParentExists after Destroy: %v, want %v", !keep, keep)
			}
		})
	}
}
