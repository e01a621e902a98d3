//go:build linux

package cgroup

import (
	"errors"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// v1Baseline are the hierarchies every v1 cgroup joins when mounted: they
// back Stats (memory, cpu, cpuacct, pids), OOM events (memory) and
// freeze/kill-all (freezer). cpuset and blkio are added only when the
// resources ask for them.
var v1Baseline = []string{"memory", "cpu", "cpuacct", "pids", "freezer"}

// cgroupV1 is a cgroup in the v1 hierarchies (legacy or hybrid mode).
type cgroupV1 struct {
	sys  *System
	path string
	dirs map[string]string // controller -> absolute directory
}

// v1Need lists the controllers for r: the mounted baseline plus what r sets.
func (s *System) v1Need(r *Resources) ([]string, error) {
	var need []string
	for _, c := range v1Baseline {
		if s.l.v1[c] != "" {
			need = append(need, c)
		}
	}
	for _, c := range r.controllers() {
		v1c := map[string]string{"io": "blkio"}[c]
		if v1c == "" {
			v1c = c
		}
		if s.l.v1[v1c] == "" {
			return nil, unsupportedRes(c, "", "v1 controller "+v1c+" not mounted")
		}
		if !contains(need, v1c) {
			need = append(need, v1c)
		}
	}
	return need, nil
}

func (s *System) createV1(p string, r *Resources) (Cgroup, error) {
	need, err := s.v1Need(r)
	if err != nil {
		return nil, err
	}
	c := &cgroupV1{sys: s, path: p, dirs: map[string]string{}}
	var created []string
	fail := func(err error) (Cgroup, error) {
		rmdirAll(created)
		return nil, err
	}
	done := map[string]bool{}
	for _, ctrl := range need {
		mnt := s.l.v1[ctrl]
		dir := mnt + p
		c.dirs[ctrl] = dir
		if done[mnt] {
			continue
		}
		done[mnt] = true
		made, err := mkdirLeaf(mnt, dir)
		created = append(created, made...)
		if err != nil {
			return fail(createErr(p, err))
		}
		if s.l.v1["cpuset"] == mnt {
			if err := initCpuset(made); err != nil {
				return fail(fsErr("create", p, err))
			}
		}
	}
	if err := c.apply("create", r); err != nil {
		return fail(err)
	}
	return c, nil
}

// initCpuset gives new v1 cpuset directories their parent's cpus and mems
// (a v1 cpuset starts empty and cannot take tasks until both are set).
func initCpuset(dirs []string) error {
	for _, d := range dirs {
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			cur, err := readFile(d + "/" + f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(cur) != "" {
				continue
			}
			pv, err := readFile(parentDir(d) + "/" + f)
			if err != nil {
				return err
			}
			if err := writeFile(d+"/"+f, strings.TrimSpace(pv)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *System) openV1(p string) (Cgroup, error) {
	c := &cgroupV1{sys: s, path: p, dirs: map[string]string{}}
	for _, ctrl := range append(v1Baseline, "cpuset", "blkio", "hugetlb") {
		if mnt := s.l.v1[ctrl]; mnt != "" {
			if _, err := os.Stat(mnt + p); err == nil {
				c.dirs[ctrl] = mnt + p
			}
		}
	}
	if len(c.dirs) == 0 {
		return nil, &Error{Op: "open", Path: p, Err: wrapBoth(ErrNotExist, unix.ENOENT)}
	}
	return c, nil
}

// apply validates host-dependent values and writes r.
func (c *cgroupV1) apply(op string, r *Resources) error {
	if r == nil {
		return nil
	}
	for _, ctrl := range r.controllers() {
		if ctrl == "io" {
			ctrl = "blkio"
		}
		if c.dirs[ctrl] == "" {
			return unsupportedRes(ctrl, "", "cgroup was created without the "+ctrl+" controller")
		}
	}
	if m := r.Memory; m != nil {
		if err := c.applyMemory(op, m); err != nil {
			return err
		}
	}
	if cpu := r.CPU; cpu != nil {
		d := c.dirs["cpu"]
		period := cpu.periodUs()
		quota := cpu.quotaUs(period)
		if quota == 0 {
			quota = -1
		}
		if err := c.writeAll(op, [][3]string{
			{d, "cpu.shares", strconv.FormatUint(cpu.shares(), 10)},
			{d, "cpu.cfs_period_us", strconv.FormatUint(period, 10)},
			{d, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)},
		}); err != nil {
			return err
		}
	}
	if cs := r.CPUSet; cs != nil {
		if err := c.applyCpuset(op, cs); err != nil {
			return err
		}
	}
	if pd := r.Pids; pd != nil {
		if err := c.writeAll(op, [][3]string{{c.dirs["pids"], "pids.max", maxOr(pd.Max)}}); err != nil {
			return err
		}
	}
	if io := r.IO; io != nil {
		d, file := c.dirs["blkio"], "blkio.bfq.weight"
		if _, err := os.Stat(d + "/" + file); err != nil {
			file = "blkio.weight"
		}
		w := "100"
		if io.Weight != 0 {
			w = strconv.FormatUint(IOWeightToBlkio(io.Weight), 10)
		}
		if err := c.writeAll(op, [][3]string{{d, file, w}}); err != nil {
			return err
		}
	}
	for _, size := range slices.Sorted(maps.Keys(r.HugePages)) {
		limit := r.HugePages[size]
		if limit <= 0 {
			limit = -1
		}
		w := [3]string{c.dirs["hugetlb"], "hugetlb." + size + ".limit_in_bytes", strconv.FormatInt(limit, 10)}
		if err := c.writeAll(op, [][3]string{w}); err != nil {
			return err
		}
	}
	return nil
}

func (c *cgroupV1) applyMemory(op string, m *Memory) error {
	d := c.dirs["memory"]
	limit, soft := int64(-1), int64(-1)
	if m.Limit > 0 {
		limit = m.Limit
	}
	if m.Request > 0 {
		soft = m.Request
	}
	if soft > 0 || op != "create" {
		if err := c.writeAll(op, [][3]string{{d, "memory.soft_limit_in_bytes", strconv.FormatInt(soft, 10)}}); err != nil {
			return err
		}
	}
	lim := [3]string{d, "memory.limit_in_bytes", strconv.FormatInt(limit, 10)}
	if m.Swap == nil {
		return c.writeAll(op, [][3]string{lim})
	}
	// memsw (memory+swap) must stay >= the memory limit at every step: if
	// the new limit is above the current memsw, raise memsw first.
	memsw := [3]string{d, "memory.memsw.limit_in_bytes", strconv.FormatInt(m.Limit+*m.Swap, 10)}
	if err := c.writeAll(op, [][3]string{lim, memsw}); err == nil || !errors.Is(err, unix.EINVAL) {
		return err
	}
	return c.writeAll(op, [][3]string{memsw, lim})
}

func (c *cgroupV1) applyCpuset(op string, cs *CPUSet) error {
	d := c.dirs["cpuset"]
	parent := parentDir(d)
	var w [][3]string
	for _, f := range [][4]string{
		{"CPUSet.CPUs", cs.CPUs, "cpuset.effective_cpus", "cpuset.cpus"},
		{"CPUSet.Mems", cs.Mems, "cpuset.effective_mems", "cpuset.mems"},
	} {
		have, err := readFile(parent + "/" + f[2])
		if err != nil {
			return fsErr(op, c.path, err)
		}
		val := f[1]
		if val == "" {
			val = strings.TrimSpace(have)
		} else if err := checkSubset(f[0], val, have); err != nil {
			return err
		}
		w = append(w, [3]string{d, f[3], val})
	}
	return c.writeAll(op, w)
}

// writeAll writes dir/file=value triples, mapping a missing interface file
// to ErrUnsupported and a kernel EINVAL to ErrInvalidResources.
func (c *cgroupV1) writeAll(op string, w [][3]string) error {
	for _, x := range w {
		if err := writeFile(x[0]+"/"+x[1], x[2]); err != nil {
			return writeErr(op, c.path, x[0], x[1], x[2], err)
		}
	}
	return nil
}

func writeErr(op, path, dir, file, val string, err error) error {
	switch {
	case errors.Is(err, unix.EINVAL):
		return &ResourceError{Field: file, Value: val, Reason: "refused by the kernel", Err: wrapBoth(ErrInvalidResources, err)}
	case isNotExist(err):
		if _, serr := os.Stat(dir); serr == nil {
			return unsupportedRes(file, val, "interface file missing")
		}
	}
	return fsErr(op, path, err)
}
