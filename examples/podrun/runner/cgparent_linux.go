//go:build linux

package runner

import (
	"os"
	"path/filepath"
)

// cgroupExists says whether the cgroup parent is there already, in any
// hierarchy: then it is someone else's (made by hand or by a service
// manager, maybe with limits for the pods under it), and the pod's
// teardown must not remove it (sandbox.Config.KeepCgroupParent). The
// sandbox's default rule, the last pod out removes the parent, stays for
// podrun's default parent and for one that podrun makes.
func cgroupExists(parent string) bool {
	const root = "/sys/fs/cgroup"
	dirs := []string{filepath.Join(root, parent)} // the unified hierarchy
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		// v1 or hybrid: one hierarchy per directory of root.
		more, _ := filepath.Glob(filepath.Join(root, "*", parent))
		dirs = append(dirs, more...)
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}
