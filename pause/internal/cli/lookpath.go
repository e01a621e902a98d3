//go:build linux

package cli

import (
	"strings"
	"syscall"
)

// DefaultPath is used when $PATH is unset, as execvp does on Linux.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookPath resolves file like execvp: names containing a slash are used as
// they are; otherwise each $PATH entry is tried (an empty entry is the
// current directory). The first executable regular file wins. If only
// non-executable files are found, the first is returned so that exec fails
// with EACCES (exit 126 rather than 127). Nothing found: ErrNotFound.
func LookPath(file, path string) (string, error) {
	if file == "" {
		return "", &PathError{Op: "lookpath", Path: file, Err: ErrNotFound}
	}
	if strings.Contains(file, "/") {
		return file, nil
	}
	if path == "" {
		path = DefaultPath
	}
	candidate := ""
	for dir := range strings.SplitSeq(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		if st.Mode&0o111 != 0 {
			return p, nil
		}
		if candidate == "" {
			candidate = p
		}
	}
	if candidate != "" {
		return candidate, nil
	}
	return "", &PathError{Op: "lookpath", Path: file, Err: ErrNotFound}
}
