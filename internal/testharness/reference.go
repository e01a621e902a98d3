//go:build linux

package testharness

import (
	"runtime"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// AsReferenceRuntime runs fn (which runs crun or runc, the reference
// runtimes of the benchmarks) on a throwaway thread in a private mount
// namespace where /sys/fs/cgroup/unified is hidden under a tmpfs: crun
// refuses a cgroup v1 host with an (empty) v2 hierarchy mounted (the
// tmpfs takes what crun still writes there for the "0::" line).
func AsReferenceRuntime(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- err
			return
		}
		if cgroups.IsCgroup2HybridMode() {
			if err := unix.Mount("tmpfs", "/sys/fs/cgroup/unified", "tmpfs", 0, "size=1m"); err != nil {
				errc <- err
				return
			}
		}
		errc <- fn()
	}()
	return <-errc
}
