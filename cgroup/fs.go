//go:build linux

package cgroup

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeFile writes val to an existing cgroupfs file with one open, one
// write and one close (no O_CREAT/O_TRUNC, no fstat). An empty value is
// written as "\n": a zero-length write never reaches the kernel's handler.
func writeFile(path, val string) error {
	if val == "" {
		val = "\n"
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	_, err = unix.Write(fd, []byte(val))
	unix.Close(fd)
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// readFile reads a whole cgroupfs file.
func readFile(path string) (string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var buf [4096]byte
	var out []byte
	for {
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return string(out), nil
		}
		out = append(out, buf[:n]...)
	}
}

// readKV reads a "key value" per line file and returns the value of key.
func readKV(path, key string) (uint64, bool, error) {
	s, err := readFile(path)
	if err != nil {
		return 0, false, err
	}
	return lookupKV(s, key)
}

func lookupKV(s, key string) (uint64, bool, error) {
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, true, err
		}
	}
	return 0, false, nil
}

// readStatNum reads a file holding one number, or "max" or "-1" (no
// limit: NoLimit). A missing or unreadable file reads as 0, as a
// statistic of a controller the cgroup does not have.
func readStatNum(path string) uint64 {
	s, err := readFile(path)
	if err != nil {
		return 0
	}
	s = strings.TrimSpace(s)
	if s == "max" || s == "-1" {
		return NoLimit
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// readPids parses a cgroup.procs file.
func readPids(path string) ([]int, error) {
	s, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(s) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// procsTree lists cgroup.procs of dir and all its sub-cgroups.
func procsTree(dir string) ([]int, error) {
	pids, err := readPids(dir + "/cgroup.procs")
	if err != nil {
		return nil, err
	}
	// cgroupfs (kernfs) keeps a directory's link count at 2 + its number
	// of sub-directories: one stat spares listing a leaf.
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err == nil && st.Nlink <= 2 {
		return pids, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.IsDir() {
			sub, err := procsTree(dir + "/" + e.Name())
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			pids = append(pids, sub...)
		}
	}
	return pids, nil
}

// isNotExist reports errors meaning the cgroup is gone (ENOENT, or ENODEV
// from a file of a cgroup removed while open).
func isNotExist(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV)
}

// fsErr turns a filesystem error into an *Error, adding ErrNotExist when
// the cgroup is gone.
func fsErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if isNotExist(err) {
		err = wrapBoth(ErrNotExist, err)
	}
	return &Error{Op: op, Path: path, Err: err}
}

// Bounded EBUSY retry for rmdir: short sleeps growing to 20ms, at most
// rmdirBudget in total (or the context's deadline if sooner).
const rmdirBudget = 5 * time.Second

// removeTree removes dir and its sub-directories bottom-up. A missing dir
// is fine.
func removeTree(ctx context.Context, dir string) error {
	deadline := time.Now().Add(rmdirBudget)
	sleep := 100 * time.Microsecond
	for {
		err := unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY && err != unix.ENOTEMPTY {
			return err
		}
		// Children first; then retry (processes may still be exiting).
		ents, rerr := os.ReadDir(dir)
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return rerr
		}
		removedChild := false
		for _, e := range ents {
			if e.IsDir() {
				if err := removeTree(ctx, dir+"/"+e.Name()); err != nil {
					return err
				}
				removedChild = true
			}
		}
		if removedChild {
			continue
		}
		if time.Now().After(deadline) {
			return wrapBoth(ErrBusy, err)
		}
		select {
		case <-ctx.Done():
			return wrapBoth(ErrBusy, errors.Join(err, ctx.Err()))
		case <-time.After(sleep):
		}
		sleep = min(sleep*2, 20*time.Millisecond)
	}
}

// removeAll removes the relative path p in every hierarchy of s.
func (s *System) removeAll(ctx context.Context, p string) error {
	var first error
	for _, root := range s.l.roots {
		if err := removeTree(ctx, root+p); err != nil && first == nil {
			first = &Error{Op: "delete", Path: p, Err: err}
		}
	}
	return first
}

// removeKnown removes the leaves (known children of top) and then top in
// every hierarchy, skipping hierarchies where top does not exist: one
// failed lookup there instead of one per leaf. Unknown sub-cgroups are
// still found by removeTree's listing.
func (s *System) removeKnown(ctx context.Context, top string, leaves []string) error {
	var first error
	for _, root := range s.l.roots {
		if err := unix.Access(root+top, unix.F_OK); err == unix.ENOENT {
			continue
		}
		for _, l := range append(leaves, top) {
			if err := removeTree(ctx, root+l); err != nil && first == nil {
				first = &Error{Op: "delete", Path: l, Err: err}
			}
		}
	}
	return first
}

// mkdirParents creates the missing ancestors of dir (a path under root)
// and returns the directories it created, outermost first.
func mkdirParents(root, dir string) ([]string, error) {
	var missing []string
	for d := parentDir(dir); len(d) > len(root); d = parentDir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := unix.Mkdir(missing[i], 0o755)
		if err != nil && err != unix.EEXIST {
			rmdirAll(created)
			return nil, &os.PathError{Op: "mkdir", Path: missing[i], Err: err}
		}
		if err == nil {
			created = append(created, missing[i])
		}
	}
	return created, nil
}

// createErr maps a mkdir failure: EEXIST becomes ErrExist.
func createErr(p string, err error) error {
	if errors.Is(err, unix.EEXIST) {
		return &Error{Op: "create", Path: p, Err: wrapBoth(ErrExist, err)}
	}
	return fsErr("create", p, err)
}

// mkdirLeaf creates dir and, if needed, its missing ancestors under root.
// It returns every directory it created, outermost first; EEXIST for dir
// itself is returned as the error.
func mkdirLeaf(root, dir string) ([]string, error) {
	err := unix.Mkdir(dir, 0o755)
	if err == nil {
		return []string{dir}, nil
	}
	if err != unix.ENOENT {
		return nil, &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	created, err := mkdirParents(root, dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Mkdir(dir, 0o755); err != nil {
		rmdirAll(created)
		return nil, &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return append(created, dir), nil
}

// rmdirAll removes directories in reverse creation order (rollback).
func rmdirAll(dirs []string) {
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = unix.Rmdir(dirs[i])
	}
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}
