//go:build linux

package cgroup

import (
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
