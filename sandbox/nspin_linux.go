//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// nsKinds maps the namespace names used in pins to their clone flags.
var nsKinds = map[string]int{
	"net": unix.CLONE_NEWNET,
	"ipc": unix.CLONE_NEWIPC,
	"uts": unix.CLONE_NEWUTS,
	"pid": unix.CLONE_NEWPID,
}

// pinNS bind-mounts the namespace file src (e.g. /proc/<pid>/ns/net) onto
// dst, creating dst as an empty file. The pin keeps the namespace alive with
// no process in it.
func pinNS(src, dst string) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY|unix.O_CLOEXEC, 0o400)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		os.Remove(dst)
		return &os.PathError{Op: "bind " + src, Path: dst, Err: err}
	}
	return nil
}

// unpinNS undoes pinNS; a missing pin is not an error.
func unpinNS(dst string) error {
	err := unix.Unmount(dst, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "umount", Path: dst, Err: err}
	}
	if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// onLockedThread runs fn on a fresh OS thread that is thrown away afterwards:
// the goroutine never unlocks, so the Go runtime terminates the thread when it
// exits and no thread is ever left in a foreign namespace.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- fn()
	}()
	return <-errc
}

// unshareAndPin creates fresh namespaces of the given kinds with no process
// in them (CRI-O style pinned-only mode), pins each one as dir/<kind>, then
// runs setup inside them on the same thread.
func unshareAndPin(dir string, kinds []string, setup func() error) (pins map[string]string, err error) {
	flags := 0
	for _, k := range kinds {
		flags |= nsKinds[k]
	}
	pins = map[string]string{}
	err = onLockedThread(func() error {
		if err := unix.Unshare(flags); err != nil {
			return os.NewSyscallError("unshare", err)
		}
		for _, k := range kinds {
			p := filepath.Join(dir, k)
			if err := pinNS("/proc/thread-self/ns/"+k, p); err != nil {
				return err
			}
			pins[k] = p
		}
		return setup()
	})
	if err != nil {
		for _, p := range pins {
			_ = unpinNS(p)
		}
		return nil, err
	}
	return pins, nil
}

// inPinnedNamespaces runs fn on a throw-away thread joined to the pinned
// namespaces (pid is skipped: setns(CLONE_NEWPID) affects only children).
func inPinnedNamespaces(pins map[string]string, fn func() error) error {
	return onLockedThread(func() error {
		for k, p := range pins {
			if k == "pid" {
				continue
			}
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return &os.PathError{Op: "open", Path: p, Err: err}
			}
			err = unix.Setns(fd, nsKinds[k])
			unix.Close(fd)
			if err != nil {
				return &os.PathError{Op: "setns", Path: p, Err: err}
			}
		}
		return fn()
	})
}

// loopbackUp sets IFF_UP on "lo" in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFFLAGS lo", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCSIFFLAGS lo", err)
	}
	return nil
}

// writeSysctls writes namespaced sysctls through /proc/sys, which resolves
// net.* and IPC kernel.* entries against the calling thread's namespaces.
func writeSysctls(sysctls map[string]string) error {
	for k, v := range sysctls {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// nsInode returns the inode number identifying the namespace pinned at p.
func nsInode(p string) uint64 {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0
	}
	return st.Ino
}
