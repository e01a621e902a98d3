//go:build linux

package nsjoin

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Sweep removes stale pins and returns the names it removed.
//
// A name is stale when keep does not claim it (keep == nil claims nothing)
// and no thread of any process is a member of any namespace pinned under it
// (checked against /proc/*/task/*/ns). Names whose pins are broken (files
// with no nsfs mount on them, left by a crash between creating the file and
// mounting on it) hold no namespace and are stale as well. Namespaces that
// still have a process are never swept: the owner is presumably alive.
//
// Run it at startup or under the caller's own lock: a name that another
// goroutine is pinning right now (file created, mount not yet made) looks
// broken and could be swept; its Pin then fails with an error rather than
// leaving anything behind.
func (d *PinDir) Sweep(keep func(name string) bool) ([]string, error) {
	names, err := d.Names()
	if err != nil {
		return nil, err
	}
	cands := map[string][]pinnedNS{}
	for _, n := range names {
		if keep != nil && keep(n) {
			continue
		}
		cands[n] = d.stat(n)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	used := namespacesInUse()
	var removed []string
	for _, n := range names {
		pins, ok := cands[n]
		if !ok || anyInUse(pins, used) {
			continue
		}
		if err := d.Unpin(n); err != nil {
			return removed, err
		}
		removed = append(removed, n)
	}
	return removed, nil
}

type pinnedNS struct {
	kind Kind
	ino  uint64
}

// stat returns the namespaces really mounted under name (nsfs only).
func (d *PinDir) stat(name string) []pinnedNS {
	kinds, _ := d.pinnedKinds(name)
	var out []pinnedNS
	for _, k := range kinds {
		var sfs unix.Statfs_t
		var st unix.Stat_t
		p := d.PinPath(name, k)
		if unix.Statfs(p, &sfs) != nil || sfs.Type != unix.NSFS_MAGIC || unix.Stat(p, &st) != nil {
			continue
		}
		out = append(out, pinnedNS{kind: k, ino: st.Ino})
	}
	return out
}

func anyInUse(pins []pinnedNS, used map[pinnedNS]bool) bool {
	for _, p := range pins {
		if used[p] {
			return true
		}
	}
	return false
}

// namespacesInUse collects the namespaces (and pid/time for-children ones)
// of every thread of every process visible in /proc.
func namespacesInUse() map[pinnedNS]bool {
	used := map[pinnedNS]bool{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		tdir := filepath.Join("/proc", p.Name(), "task")
		tasks, _ := os.ReadDir(tdir)
		for _, t := range tasks {
			nsdir := filepath.Join(tdir, t.Name(), "ns")
			ents, _ := os.ReadDir(nsdir)
			for _, e := range ents {
				link, err := os.Readlink(filepath.Join(nsdir, e.Name()))
				if err != nil {
					continue
				}
				if ns, ok := parseNSLink(link); ok {
					used[ns] = true
				}
			}
		}
	}
	return used
}

// parseNSLink parses "net:[4026531840]".
func parseNSLink(link string) (pinnedNS, bool) {
	name, rest, ok := strings.Cut(link, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return pinnedNS{}, false
	}
	k, err := ParseKind(name)
	if err != nil {
		return pinnedNS{}, false
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return pinnedNS{}, false
	}
	return pinnedNS{kind: k, ino: ino}, true
}
