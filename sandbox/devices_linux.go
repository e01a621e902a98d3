//go:build linux

package sandbox

import (
	"io/fs"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostDevices lists the device nodes under the host's /dev for a
// privileged container, as runtimes give it: character and block devices,
// not the per-mount ones (pts, shm, mqueue) nor the fd links, which the
// container has of its own. Nodes that vanish meanwhile are skipped.
func hostDevices() []specs.LinuxDevice {
	var out []specs.LinuxDevice
	_ = filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case "pts", "shm", "mqueue", "fd", ".udev", ".lxc", ".lxd-mounts":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" || d.Type()&fs.ModeDevice == 0 {
			return nil // console: libcontainer sets up the container's own
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		typ := "c"
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			typ = "b"
		}
		mode := fs.FileMode(st.Mode & 0o777)
		uid, gid := st.Uid, st.Gid
		out = append(out, specs.LinuxDevice{Path: p, Type: typ,
			Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
			FileMode: &mode, UID: &uid, GID: &gid})
		return nil
	})
	return out
}
