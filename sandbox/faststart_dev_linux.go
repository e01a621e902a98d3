//go:build linux

package sandbox

// The fast path's /dev: device nodes and links, as runc makes them.

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// needsDevSetup: /dev is not a bind mount, so it gets the default nodes.
func needsDevSetup(cfg *configs.Config) bool {
	for _, m := range cfg.Mounts {
		if m.Device == "bind" && path.Clean(m.Destination) == "/dev" {
			return false
		}
	}
	return true
}

// setupDev creates the config's device nodes (the default ones), the
// /dev/ptmx link into devpts and the /proc/self links, as runc does.
func (p *rootPlan) setupDev() error {
	// The thread's own umask (its fs is unshared): nodes get their modes
	// from mknod itself.
	defer unix.Umask(unix.Umask(0))
	fresh := p.freshDev()
	for _, d := range p.cfg.Devices {
		if d.Path == "" || path.Clean(d.Path) == "/dev/ptmx" {
			continue
		}
		if fresh && path.Dir(path.Clean(d.Path)) == "/dev" {
			// Straight into the new tmpfs, which nothing else sees yet:
			// no symlink to resolve, no directory to make.
			if err := makeNode(p.rootfs+path.Clean(d.Path), d); err != nil {
				return err
			}
			continue
		}
		dest, err := securejoin.SecureJoin(p.rootfs, d.Path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := makeNode(dest, d); err != nil {
			return err
		}
	}
	dev := filepath.Join(p.rootfs, "dev")
	if err := unix.Unlink(filepath.Join(dev, "ptmx")); err != nil && err != unix.ENOENT {
		return err
	}
	links := [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}}
	if p.trees.kcore {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if err := unix.Symlink(l[0], filepath.Join(dev, l[1])); err != nil && err != unix.EEXIST {
			return &os.PathError{Op: "symlink", Path: l[1], Err: err}
		}
	}
	return nil
}

// makeNode creates device d at dest (the thread's umask is 0), owned by
// d's user and group; one that exists is kept, with d's mode and owner.
func makeNode(dest string, d *devices.Device) error {
	mode := uint32(d.FileMode)
	switch d.Type {
	case 'c', 'u':
		mode |= unix.S_IFCHR
	case 'b':
		mode |= unix.S_IFBLK
	case 'p':
		mode |= unix.S_IFIFO
	default:
		return fmt.Errorf("device %s: type %c", d.Path, d.Type)
	}
	err := unix.Mknod(dest, mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	switch {
	case err == unix.EEXIST:
		if err := unix.Chmod(dest, uint32(d.FileMode)); err != nil {
			return &os.PathError{Op: "chmod", Path: dest, Err: err}
		}
	case err != nil:
		return &os.PathError{Op: "mknod", Path: dest, Err: err}
	case d.Uid == 0 && d.Gid == 0:
		return nil // made by root
	}
	if err := unix.Lchown(dest, int(d.Uid), int(d.Gid)); err != nil {
		return &os.PathError{Op: "chown", Path: dest, Err: err}
	}
	return nil
}

// freshDev says whether the config's /dev is a tmpfs of its own, which
// setupDev fills before anything can run in it.
func (p *rootPlan) freshDev() bool {
	fresh := false
	for _, m := range p.cfg.Mounts {
		if path.Clean(m.Destination) == "/dev" {
			fresh = m.Device == "tmpfs"
		}
	}
	return fresh
}
