//go:build linux

package cgroup

import (
	"context"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// v2Baseline are the controllers every v2 cgroup gets when the hierarchy
// offers them: they back Stats, OOM events and the pids limit.
var v2Baseline = []string{"cpu", "memory", "pids"}

// cgroupV2 is a cgroup in a unified (v2) hierarchy.
type cgroupV2 struct {
	sys  *System
	path string // relative, canonical
	dir  string // absolute
}

// v2Available returns the controllers the v2 root offers.
// v2Available returns the controllers the v2 root offers, read once per
// System.
func (s *System) v2Available() (map[string]bool, error) {
	s.availOnce.Do(func() {
		txt, err := readFile(s.l.unified + "/cgroup.controllers")
		if err != nil {
			s.availErr = &Error{Op: "create", Path: "/", Err: err}
			return
		}
		s.avail = map[string]bool{}
		for _, c := range strings.Fields(txt) {
			s.avail[c] = true
		}
	})
	return s.avail, s.availErr
}

// v2Need returns the controllers to enable for r: the available baseline
// plus everything r sets (which must be available).
func (s *System) v2Need(r *Resources) ([]string, error) {
	avail, err := s.v2Available()
	if err != nil {
		return nil, err
	}
	var need []string
	for _, c := range v2Baseline {
		if avail[c] {
			need = append(need, c)
		}
	}
	for _, c := range r.controllers() {
		if !avail[c] {
			return nil, unsupportedRes(c, "", "controller "+c+" not available in the v2 hierarchy")
		}
		if !contains(need, c) {
			need = append(need, c)
		}
	}
	return need, nil
}

// enableV2 writes +ctrl for need into cgroup.subtree_control from the
// mount root down to dir's parent.
func enableV2(root, dir string, need []string) error {
	if len(need) == 0 {
		return nil
	}
	// Common case: the parent already delegates everything (which implies
	// every ancestor does): one read instead of a write per level.
	if cur, err := readFile(parentDir(dir) + "/cgroup.subtree_control"); err == nil {
		have := strings.Fields(cur)
		missing := false
		for _, c := range need {
			missing = missing || !contains(have, c)
		}
		if !missing {
			return nil
		}
	}
	val := "+" + strings.Join(need, " +")
	// Next most common: only the parent lacks them (a new pod cgroup).
	if err := writeFile(parentDir(dir)+"/cgroup.subtree_control", val); err == nil {
		return nil
	}
	rel := strings.TrimPrefix(parentDir(dir), root)
	cur := root
	for _, comp := range append([]string{""}, strings.Split(strings.Trim(rel, "/"), "/")...) {
		if comp != "" {
			cur += "/" + comp
		}
		if err := writeFile(cur+"/cgroup.subtree_control", val); err != nil {
			return err
		}
	}
	return nil
}

func (s *System) createV2(p string, r *Resources) (Cgroup, error) {
	root := s.l.unified
	dir := root + p
	need, err := s.v2Need(r)
	if err != nil {
		return nil, err
	}
	created, err := mkdirLeaf(root, dir)
	if err != nil {
		return nil, createErr(p, err)
	}
	// Enabling a controller in an ancestor's subtree_control also gives
	// existing children its interface files, so this may follow the mkdir.
	if err := enableV2(root, dir, need); err != nil {
		rmdirAll(created)
		return nil, fsErr("create", p, err)
	}
	c := &cgroupV2{sys: s, path: p, dir: dir}
	if err := c.apply("create", r); err != nil {
		rmdirAll(created)
		return nil, err
	}
	return c, nil
}

func (s *System) openV2(p string) (Cgroup, error) {
	dir := s.l.unified + p
	if _, err := os.Stat(dir); err != nil {
		return nil, fsErr("open", p, err)
	}
	return &cgroupV2{sys: s, path: p, dir: dir}, nil
}

// v2Writes converts resources to (file, value) pairs in write order. For a
// fresh cgroup, values equal to the kernel default are skipped.
func v2Writes(r *Resources, fresh bool) [][2]string {
	var w [][2]string
	if m := r.Memory; m != nil {
		if m.Request > 0 || !fresh {
			w = append(w, [2]string{"memory.low", strconv.FormatInt(m.Request, 10)})
		}
		w = append(w, [2]string{"memory.max", maxOr(m.Limit)})
		if m.Swap != nil {
			w = append(w, [2]string{"memory.swap.max", strconv.FormatInt(*m.Swap, 10)})
		}
	}
	if c := r.CPU; c != nil {
		weight := SharesToWeight(c.shares())
		w = append(w, [2]string{"cpu.weight", strconv.FormatUint(weight, 10)})
		period := c.periodUs()
		quota := "max"
		if q := c.quotaUs(period); q > 0 {
			quota = strconv.FormatInt(q, 10)
		}
		w = append(w, [2]string{"cpu.max", quota + " " + strconv.FormatUint(period, 10)})
	}
	if cs := r.CPUSet; cs != nil {
		w = append(w, [2]string{"cpuset.cpus", cs.CPUs}, [2]string{"cpuset.mems", cs.Mems})
	}
	if pd := r.Pids; pd != nil {
		w = append(w, [2]string{"pids.max", maxOr(pd.Max)})
	}
	if io := r.IO; io != nil {
		weight := uint64(io.Weight)
		if weight == 0 {
			weight = 100
		}
		w = append(w, [2]string{"io.weight", "default " + strconv.FormatUint(weight, 10)})
	}
	for _, size := range slices.Sorted(maps.Keys(r.HugePages)) {
		w = append(w, [2]string{"hugetlb." + size + ".max", maxOr(r.HugePages[size])})
	}
	return w
}

func maxOr(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

// apply validates host-dependent values and writes r.
func (c *cgroupV2) apply(op string, r *Resources) error {
	if r == nil {
		return nil
	}
	if cs := r.CPUSet; cs != nil {
		parent := parentDir(c.dir)
		if err := checkCpusetV2(parent, cs); err != nil {
			return err
		}
	}
	for _, kv := range v2Writes(r, op == "create") {
		if err := writeFile(c.dir+"/"+kv[0], kv[1]); err != nil {
			return writeErr(op, c.path, c.dir, kv[0], kv[1], err)
		}
	}
	return nil
}

func checkCpusetV2(parent string, cs *CPUSet) error {
	for _, f := range [][3]string{{"CPUSet.CPUs", cs.CPUs, "cpuset.cpus.effective"}, {"CPUSet.Mems", cs.Mems, "cpuset.mems.effective"}} {
		if f[1] == "" {
			continue
		}
		have, err := readFile(parent + "/" + f[2])
		if err != nil {
			return unsupportedRes(f[0], f[1], "cannot read parent's "+f[2])
		}
		if err := checkSubset(f[0], f[1], have); err != nil {
			return err
		}
	}
	return nil
}

func (c *cgroupV2) Path() string             { return c.path }
func (c *cgroupV2) Paths() map[string]string { return map[string]string{"": c.dir} }

func (c *cgroupV2) AddProcess(pid int) error {
	return fsErr("add", c.path, writeFile(c.dir+"/cgroup.procs", strconv.Itoa(pid)))
}

func (c *cgroupV2) Procs() ([]int, error) {
	pids, err := procsTree(c.dir)
	return pids, fsErr("procs", c.path, err)
}

func (c *cgroupV2) Update(r *Resources) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := os.Stat(c.dir); err != nil {
		return fsErr("update", c.path, err)
	}
	return c.apply("update", r)
}

// OpenDir opens the cgroup directory for CLONE_INTO_CGROUP.
func (c *cgroupV2) OpenDir() (*os.File, error) {
	fd, err := unix.Open(c.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fsErr("opendir", c.path, &os.PathError{Op: "open", Path: c.dir, Err: err})
	}
	return os.NewFile(uintptr(fd), c.dir), nil
}

func (c *cgroupV2) Delete(ctx context.Context) error {
	return c.sys.removeAll(ctx, c.path)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
