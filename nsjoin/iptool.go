//go:build linux

package nsjoin

import "path/filepath"

// IPNetnsDir is where ip-netns(8) looks for named network namespaces.
const IPNetnsDir = "/run/netns"

// PinNetnsForIPTool pins the network namespace h as /run/netns/<name>, so
// `ip netns exec <name> ...` and `ip netns list` see it. /run/netns is set
// up as a shared mount point (see OpenPinDir) if it is not one yet; when it
// is one already (ip netns add made it), it is only made shared, as ip does.
func PinNetnsForIPTool(name string, h *Handle) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	if h == nil || h.Kind() != Net {
		return "", &Error{Op: "pin for ip", ID: name, Err: ErrWrongKind}
	}
	if err := prepareDir(IPNetnsDir); err != nil {
		return "", err
	}
	path := filepath.Join(IPNetnsDir, name)
	if err := pinAt(path, h); err != nil {
		return "", err
	}
	return path, nil
}

// UnpinNetnsForIPTool removes /run/netns/<name> (like `ip netns delete`).
// It is idempotent.
func UnpinNetnsForIPTool(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	return unpinAt(filepath.Join(IPNetnsDir, name))
}

// ReleaseIPToolDir unmounts and removes /run/netns when no namespace is
// pinned there any more (ErrBusy otherwise). ip-netns(8) itself never does
// this; it exists so a test, or a host that wants no trace, can undo the
// mount that PinNetnsForIPTool (or ip netns add) created.
func ReleaseIPToolDir() error { return teardownDir(IPNetnsDir) }
