//go:build linux

package cgroup

import (
	"bufio"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// Mode is how the host mounts cgroups.
type Mode int

const (
	// ModeUnknown: no cgroup hierarchy found.
	ModeUnknown Mode = iota
	// ModeLegacy: only v1 hierarchies.
	ModeLegacy
	// ModeHybrid: v1 controllers plus a (controller-less) v2 hierarchy.
	// Controllers are managed as on v1; Delete also cleans the v2 tree.
	ModeHybrid
	// ModeUnified: one v2 hierarchy with all controllers.
	ModeUnified
)

func (m Mode) String() string {
	switch m {
	case ModeLegacy:
		return "legacy"
	case ModeHybrid:
		return "hybrid"
	case ModeUnified:
		return "unified"
	}
	return "unknown"
}

// layout is the mount layout of the cgroup hierarchies, parsed once.
type layout struct {
	mode    Mode
	unified string            // cgroup2 mountpoint, "" if none
	v1      map[string]string // v1 controller (or "name=x") -> mountpoint
	roots   []string          // every distinct hierarchy mountpoint
}

var (
	hostOnce   sync.Once
	hostLayout layout
	hostErr    error
)

func detect() (layout, error) {
	hostOnce.Do(func() {
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			hostErr = &Error{Op: "detect", Path: "/proc/self/mountinfo", Err: err}
			return
		}
		defer f.Close()
		hostLayout = parseMountinfo(f)
	})
	return hostLayout, hostErr
}

// parseMountinfo extracts the cgroup mounts from mountinfo. The first mount
// of each hierarchy wins.
func parseMountinfo(r io.Reader) layout {
	l := layout{v1: map[string]string{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mnt, fstype, opts := unescapeMount(fields[4]), fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup2":
			if l.unified == "" {
				l.unified = mnt
				l.roots = append(l.roots, mnt)
			}
		case "cgroup":
			added := false
			for _, o := range strings.Split(opts, ",") {
				if !isV1Controller(o) {
					continue
				}
				if _, dup := l.v1[o]; !dup {
					l.v1[o] = mnt
					added = true
				}
			}
			if added && !seen[mnt] {
				l.roots = append(l.roots, mnt)
			}
		}
		seen[mnt] = true
	}
	sort.Strings(l.roots)
	switch {
	case len(l.v1) > 0 && l.unified != "":
		l.mode = ModeHybrid
	case len(l.v1) > 0:
		l.mode = ModeLegacy
	case l.unified != "":
		l.mode = ModeUnified
	}
	return l
}

// isV1Controller reports whether a super option of a v1 cgroup mount names
// a hierarchy (a controller or a named hierarchy) rather than a mount flag.
func isV1Controller(o string) bool {
	switch o {
	case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "xattr",
		"clone_children", "noprefix", "cpuset_v2_mode", "favordynmods":
		return false
	}
	return !strings.HasPrefix(o, "release_agent=")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			v := (int(s[i+1]-'0') << 6) | (int(s[i+2]-'0') << 3) | int(s[i+3]-'0')
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
