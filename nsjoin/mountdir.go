//go:build linux

package nsjoin

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// prepareMu serialises run-dir setup inside this process; flock on the
// directory serialises it between processes.
var prepareMu sync.Mutex

// isMountRoot reports whether path is the root of a mount.
func isMountRoot(path string) (bool, error) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx)
	if err != nil {
		return false, err
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, errors.ErrUnsupported
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// prepareDir turns dir into a pin directory: it creates it and, when it is
// not a mount point yet, mounts a small tmpfs on it (or, if it already holds
// files, bind-mounts it onto itself so they stay visible), then gives the
// mount shared propagation in a peer group of its own:
//
//   - private first, so the mount leaves the peer group of the parent
//     mount and pins do not spread into every mount namespace that shares "/";
//   - then shared, so mount namespaces created later (containers, unshare -m)
//     receive the directory as a peer: a pin made there appears here, and an
//     unpin here (umount) propagates there instead of leaving a copy that keeps
//     the namespace alive (the leak of cri-o#273 and containerd/cri#568).
//
// This is what ip-netns(8) does for /run/netns (make shared, self-bind when
// that fails with EINVAL), plus the private step. tmpfs rather than a
// self-bind because on a disk file system (here /run is ext4) creating and
// removing the pin files costs milliseconds; on tmpfs a pin+unpin is ~20x
// cheaper, and no stale pin files survive a reboot.
func prepareDir(dir string) error {
	prepareMu.Lock()
	defer prepareMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &Error{Op: "prepare pin dir", Path: dir, Err: err}
	}
	lfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &Error{Op: "prepare pin dir", Path: dir, Err: err}
	}
	defer unix.Close(lfd)
	if err := unix.Flock(lfd, unix.LOCK_EX); err != nil {
		return &Error{Op: "prepare pin dir", Path: dir, Err: err}
	}
	root, err := isMountRoot(dir)
	if err != nil {
		return &Error{Op: "prepare pin dir", Path: dir, Err: err}
	}
	if !root {
		if err := mountPinFS(dir); err != nil {
			return &Error{Op: "prepare pin dir", Path: dir, Err: err}
		}
		if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
			unix.Unmount(dir, unix.MNT_DETACH)
			return &Error{Op: "prepare pin dir", Path: dir, Err: err}
		}
	}
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		if !root {
			unix.Unmount(dir, unix.MNT_DETACH)
		}
		return &Error{Op: "prepare pin dir", Path: dir, Err: err}
	}
	return nil
}

// mountPinFS mounts a tmpfs on an empty dir, or binds a non-empty dir onto
// itself.
func mountPinFS(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return unix.Mount(dir, dir, "", unix.MS_BIND, "")
	}
	return unix.Mount("podkit-ns", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755")
}

// teardownDir undoes prepareDir when dir holds no entries: it unmounts the
// mount on it (if dir is a mount root) and removes the directory.
func teardownDir(dir string) error {
	prepareMu.Lock()
	defer prepareMu.Unlock()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{Op: "teardown pin dir", Path: dir, Err: err}
	}
	if len(ents) > 0 {
		return &Error{Op: "teardown pin dir", Path: dir, ID: strconv.Itoa(len(ents)) + " entries", Err: ErrBusy}
	}
	root, err := isMountRoot(dir)
	if err != nil {
		return &Error{Op: "teardown pin dir", Path: dir, Err: err}
	}
	if root {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			return &Error{Op: "teardown pin dir", Path: dir, Err: err}
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &Error{Op: "teardown pin dir", Path: dir, Err: err}
	}
	return nil
}

// pinAt bind-mounts the namespace of h onto a new empty file at path. On
// error nothing is left behind.
func pinAt(path string, h *Handle) error {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o444)
	if err == unix.EEXIST {
		return &Error{Op: "pin", Kind: h.kind, Path: path, Err: both(ErrExists, err)}
	}
	if err != nil {
		return &Error{Op: "pin", Kind: h.kind, Path: path, Err: err}
	}
	unix.Close(fd)
	err = h.use("pin", func(nfd int) error {
		return unix.Mount("/proc/self/fd/"+strconv.Itoa(nfd), path, "", unix.MS_BIND, "")
	})
	if err != nil {
		unix.Unlink(path)
		var ne *Error
		if errors.As(err, &ne) && ne.Path == "" {
			ne.Path = path
		}
		return err
	}
	return nil
}

// unpinAt detaches every mount on path and removes the file. It is
// idempotent: a missing or unmounted file is not an error.
func unpinAt(path string) error {
	for i := 0; i < 8; i++ {
		err := unix.Unmount(path, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		if err == unix.EINVAL || err == unix.ENOENT {
			break
		}
		if err != nil {
			return &Error{Op: "unpin", Path: path, Err: err}
		}
	}
	if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
		return &Error{Op: "unpin", Path: path, Err: err}
	}
	return nil
}

// cleanDir validates a run directory path: absolute, clean.
func cleanDir(dir string) (string, error) {
	if dir == "" || !filepath.IsAbs(dir) || len(dir) > 1024 || filepath.Clean(dir) == "/" {
		return "", &Error{Op: "pin dir", Path: dir, Err: ErrInvalidName}
	}
	for i := 0; i < len(dir); i++ {
		if dir[i] == 0 {
			return "", &Error{Op: "pin dir", Path: dir, Err: ErrInvalidName}
		}
	}
	return filepath.Clean(dir), nil
}
