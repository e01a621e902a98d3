//go:build linux

package hostroot

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/podkit/podkit/sandbox"
)

// Bound are the host top-level directories shown read-only in a host-root
// container (the ones that exist on this host are used).
var Bound = []string{"usr", "etc", "var", "opt", "bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// empty are directories the skeleton always has (mount points and
// places programs expect to exist).
var empty = []string{"proc", "dev", "sys", "tmp", "run", "home", "root", "srv", "mnt"}

// etcFiles are the per-pod files the sandbox generates under <sandbox dir>/etc.
var etcFiles = []string{"hosts", "hostname", "resolv.conf"}

// ErrLayout: the sandbox did not generate the per-pod /etc files where
// hostroot expects them.
var ErrLayout = errors.New("sandbox /etc files not found")

// Root is a prepared skeleton root directory.
type Root struct {
	Dir   string   // the skeleton; use it as ContainerSpec.Rootfs
	binds []string // host directories bound read-only, e.g. "/usr"
}

// Prepare builds the skeleton in dir, which must not exist yet (its parent
// must). Remove undoes it.
func Prepare(dir string) (*Root, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("hostroot: %w", err)
	}
	r := &Root{Dir: dir}
	if err := r.populate(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

func (r *Root) populate() error {
	for _, name := range Bound {
		host := "/" + name
		st, err := os.Lstat(host)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return fmt.Errorf("hostroot: %w", err)
		case st.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return fmt.Errorf("hostroot: %w", err)
			}
			if err := os.Symlink(target, filepath.Join(r.Dir, name)); err != nil {
				return fmt.Errorf("hostroot: %w", err)
			}
		case st.IsDir():
			if err := os.Mkdir(filepath.Join(r.Dir, name), 0o755); err != nil {
				return fmt.Errorf("hostroot: %w", err)
			}
			r.binds = append(r.binds, host)
		}
	}
	for _, name := range empty {
		mode := os.FileMode(0o755)
		if name == "tmp" {
			mode = 0o1777 | os.ModeSticky
		}
		if err := os.Mkdir(filepath.Join(r.Dir, name), mode); err != nil {
			return fmt.Errorf("hostroot: %w", err)
		}
		if name == "tmp" {
			if err := os.Chmod(filepath.Join(r.Dir, name), 0o777|os.ModeSticky); err != nil {
				return fmt.Errorf("hostroot: %w", err)
			}
		}
	}
	return nil
}

// Mounts returns the mounts to put first in a container's Mounts: the
// read-only host directories, then the sandbox's generated /etc files again
// (the host /etc bind would hide them otherwise). sandboxDir is
// (*sandbox.Sandbox).Dir().
func (r *Root) Mounts(sandboxDir string) ([]sandbox.Mount, error) {
	var ms []sandbox.Mount
	for _, b := range r.binds {
		ms = append(ms, sandbox.Mount{Destination: b, Source: b, ReadOnly: true})
	}
	for _, f := range etcFiles {
		src := filepath.Join(sandboxDir, "etc", f)
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("hostroot: %w: %v", ErrLayout, err)
		}
		ms = append(ms, sandbox.Mount{Destination: "/etc/" + f, Source: src, ReadOnly: true})
	}
	return ms, nil
}

// Remove deletes the skeleton (it holds no mounts: those live only in the
// containers' mount namespaces).
func (r *Root) Remove() error {
	if r == nil {
		return nil
	}
	return os.RemoveAll(r.Dir)
}

// MountTargetOK reports whether dest can be a mount point in a host-root
// container without writing to the host: paths inside a bound host
// directory must already exist there (the bind is read-only); anything
// else is created in the skeleton or in the /tmp tmpfs.
func MountTargetOK(dest string) bool {
	dest = path.Clean(dest)
	first, _, _ := strings.Cut(strings.TrimPrefix(dest, "/"), "/")
	for _, b := range Bound {
		if first == b {
			_, err := os.Stat(dest)
			return err == nil
		}
	}
	return true
}
