//go:build linux

package cgroup

import (
	"context"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (c *cgroupV1) Path() string             { return c.path }
func (c *cgroupV1) Paths() map[string]string { return maps.Clone(c.dirs) }

// distinctDirs returns the cgroup's directories, one per hierarchy, in a
// stable order.
func (c *cgroupV1) distinctDirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range c.dirs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// AddProcess writes pid to cgroup.procs in every hierarchy of the cgroup.
// If a later hierarchy refuses, the hierarchies already written are moved
// back to where /proc/<pid>/cgroup said the process was.
func (c *cgroupV1) AddProcess(pid int) error {
	v := strconv.Itoa(pid)
	old := procCgroups(pid)
	type moved struct{ mnt, ctrl string }
	var done []moved
	seen := map[string]bool{}
	for _, ctrl := range slices.Sorted(maps.Keys(c.dirs)) {
		mnt := c.sys.l.v1[ctrl]
		if seen[mnt] {
			continue
		}
		seen[mnt] = true
		if err := writeFile(c.dirs[ctrl]+"/cgroup.procs", v); err != nil {
			for _, m := range done {
				if p, ok := old[m.ctrl]; ok {
					_ = writeFile(m.mnt+p+"/cgroup.procs", v)
				}
			}
			return fsErr("add", c.path, err)
		}
		done = append(done, moved{mnt, ctrl})
	}
	return nil
}

// procCgroups maps each v1 controller to the process's cgroup path, from
// /proc/<pid>/cgroup ("id:ctrl1,ctrl2:/path"). Nil if unreadable.
func procCgroups(pid int) map[string]string {
	return readCgroupFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
}

// readCgroupFile parses a /proc/<pid>/cgroup file into controller ->
// path; nil if it cannot be read.
func readCgroupFile(path string) map[string]string {
	s, err := readFile(path)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for line := range strings.Lines(s) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			out[ctrl] = parts[2]
		}
	}
	return out
}

// procsDir is the directory whose cgroup.procs lists the cgroup's
// processes: freezer first (kill-all freezes there), else any.
func (c *cgroupV1) procsDir() string {
	for _, ctrl := range []string{"freezer", "pids", "memory"} {
		if d := c.dirs[ctrl]; d != "" {
			return d
		}
	}
	return c.distinctDirs()[0]
}

func (c *cgroupV1) Procs() ([]int, error) {
	pids, err := procsTree(c.procsDir())
	return pids, fsErr("procs", c.path, err)
}

func (c *cgroupV1) Update(r *Resources) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := os.Stat(c.procsDir()); err != nil {
		return fsErr("update", c.path, err)
	}
	return c.apply("update", r)
}

// setFreezer writes freezer.state and waits until the kernel reports it
// (FREEZING turns into FROZEN once every task has stopped).
func (c *cgroupV1) setFreezer(ctx context.Context, op, state string) error {
	d := c.dirs["freezer"]
	if d == "" {
		return &Error{Op: op, Path: c.path, Err: ErrUnsupported}
	}
	sleep := 20 * time.Microsecond
	for {
		if err := writeFile(d+"/freezer.state", state); err != nil {
			return fsErr(op, c.path, err)
		}
		cur, err := readFile(d + "/freezer.state")
		if err != nil {
			return fsErr(op, c.path, err)
		}
		if strings.TrimSpace(cur) == state {
			return nil
		}
		select {
		case <-ctx.Done():
			return &Error{Op: op, Path: c.path, Err: ctx.Err()}
		case <-time.After(sleep):
		}
		sleep = min(sleep*2, 10*time.Millisecond)
	}
}

func (c *cgroupV1) Freeze(ctx context.Context) error { return c.setFreezer(ctx, "freeze", "FROZEN") }
func (c *cgroupV1) Thaw(ctx context.Context) error   { return c.setFreezer(ctx, "thaw", "THAWED") }

// KillAll runs the freeze, SIGKILL, thaw loop until cgroup.procs of the
// subtree is empty. v1 has no populated notification, so emptiness is
// checked by listing.
func (c *cgroupV1) KillAll(ctx context.Context) error {
	var freeze, thaw func(context.Context) error
	if c.dirs["freezer"] != "" {
		freeze, thaw = c.Freeze, c.Thaw
	}
	if err := killLoop(ctx, freeze, thaw, c.Procs); err != nil {
		return fsErr("killall", c.path, err)
	}
	return nil
}

func (c *cgroupV1) Delete(ctx context.Context) error {
	return c.sys.removeAll(ctx, c.path)
}

// OOMKills reads oom_kill from memory.oom_control.
func (c *cgroupV1) OOMKills() (uint64, error) {
	d := c.dirs["memory"]
	if d == "" {
		return 0, &Error{Op: "oomkills", Path: c.path, Err: ErrUnsupported}
	}
	n, _, err := readKV(d+"/memory.oom_control", "oom_kill")
	return n, fsErr("oomkills", c.path, err)
}

// Stats reads the few v1 files that carry the numbers Stats reports.
func (c *cgroupV1) Stats() (*Stats, error) {
	if _, err := os.Stat(c.procsDir()); err != nil {
		return nil, fsErr("stats", c.path, err)
	}
	st := &Stats{}
	num := func(ctrl, file string) uint64 {
		if c.dirs[ctrl] == "" {
			return 0
		}
		return readStatNum(c.dirs[ctrl] + "/" + file)
	}
	kv := func(ctrl, file, key string) uint64 {
		if c.dirs[ctrl] == "" {
			return 0
		}
		n, _, _ := readKV(c.dirs[ctrl]+"/"+file, key)
		return n
	}
	st.Memory = MemoryStats{
		Usage: num("memory", "memory.usage_in_bytes"),
		Peak:  num("memory", "memory.max_usage_in_bytes"),
		Limit: noLimit(num("memory", "memory.limit_in_bytes")),
	}
	st.Memory.InactiveFile = kv("memory", "memory.stat", "total_inactive_file")
	st.OOMKills = kv("memory", "memory.oom_control", "oom_kill")
	st.CPU = CPUStats{
		Usage:  time.Duration(num("cpuacct", "cpuacct.usage")),
		User:   time.Duration(num("cpuacct", "cpuacct.usage_user")),
		System: time.Duration(num("cpuacct", "cpuacct.usage_sys")),
	}
	if d := c.dirs["cpu"]; d != "" {
		if s, err := readFile(d + "/cpu.stat"); err == nil {
			st.CPU.Periods, _, _ = lookupKV(s, "nr_periods")
			st.CPU.Throttled, _, _ = lookupKV(s, "nr_throttled")
			ns, _, _ := lookupKV(s, "throttled_time")
			st.CPU.ThrottledTime = time.Duration(ns)
		}
	}
	st.Pids = PidsStats{Current: num("pids", "pids.current"), Max: num("pids", "pids.max")}
	return st, nil
}
