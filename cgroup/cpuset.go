//go:build linux

package cgroup

import (
	"slices"
	"strconv"
	"strings"
)

// maxCPUListID bounds ids in a cpu/mem list so a typo cannot allocate much.
const maxCPUListID = 1 << 16

// parseCPUList parses the kernel's list format ("0-3,5,7-8") into a set.
// The empty string is the empty set.
func parseCPUList(field, s string) (map[int]bool, error) {
	set := map[int]bool{}
	s = strings.TrimSpace(s)
	if s == "" {
		return set, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseID(lo)
		if err != nil {
			return nil, invalidRes(field, s, "bad list element "+strconv.Quote(part))
		}
		b := a
		if isRange {
			if b, err = parseID(hi); err != nil || b < a {
				return nil, invalidRes(field, s, "bad range "+strconv.Quote(part))
			}
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > maxCPUListID {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// checkSubset verifies that every id of want (a list) is in have (a list, the
// parent's effective set).
func checkSubset(field, want, have string) error {
	w, err := parseCPUList(field, want)
	if err != nil {
		return err
	}
	h, err := parseCPUList(field, have)
	if err != nil {
		return err
	}
	for id := range w {
		if !h[id] {
			return invalidRes(field, want, "id "+strconv.Itoa(id)+" not in the parent's effective set "+strconv.Quote(strings.TrimSpace(have)))
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// CloneCpusetChildren makes every cgroup created later under parent in the
// v1 cpuset hierarchy start with its parent's cpus and mems
// (cgroup.clone_children, which the kernel copies at mkdir and children
// inherit), creating parent there if needed. Another cgroup manager
// (runc's libcontainer) then finds them set and writes neither: each write
// of cpuset.cpus rebuilds the scheduler's domains, a walk of every cpuset
// on the host, so its cost grows with the number of pods. It does nothing
// without a v1 cpuset hierarchy.
func (s *System) CloneCpusetChildren(parent string) error {
	p, err := cleanPath("clone cpuset children", parent)
	if err != nil {
		return err
	}
	mnt := s.l.v1["cpuset"]
	if mnt == "" || s.v2() {
		return nil
	}
	dir := mnt + p
	if cur, err := readFile(dir + "/cgroup.clone_children"); err == nil && strings.TrimSpace(cur) == "1" {
		return nil
	}
	_, err = mkdirParents(mnt, dir+"/x") // dir and its missing ancestors
	if err == nil {
		// Every directory from the mount down to dir, not only those
		// made here: a concurrent caller may have made them and not yet
		// given them cpus and mems, and a cgroup made under an empty
		// cpuset stays empty (a task joining it gets ENOSPC).
		err = initCpuset(dirsDown(mnt, dir))
	}
	if err == nil {
		err = writeFile(dir+"/cgroup.clone_children", "1")
	}
	return fsErr("clone cpuset children", p, err)
}

// dirsDown lists the directories from below root down to dir, top first.
func dirsDown(root, dir string) []string {
	var up []string
	for d := dir; len(d) > len(root); d = parentDir(d) {
		up = append(up, d)
	}
	slices.Reverse(up)
	return up
}
