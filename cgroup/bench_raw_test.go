//go:build linux

package cgroup

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// raw does with plain cgroupfs calls what podkit does for a pod with a
// pause leaf and one limited container: the baseline of the benchmarks.
type raw struct {
	v2     bool
	mounts []string // distinct hierarchies the pod lives in
	l      layout
	pod    string
}

func newRaw(b *testing.B, s *System) *raw {
	r := &raw{v2: s.v2(), l: s.l, pod: testParent + "/bench"}
	if r.v2 {
		r.mounts = []string{s.l.unified}
		return r
	}
	seen := map[string]bool{}
	for _, c := range v1Baseline {
		if m := s.l.v1[c]; m != "" && !seen[m] {
			seen[m] = true
			r.mounts = append(r.mounts, m)
		}
	}
	return r
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Helper()
		b.Fatal(err)
	}
}

func (r *raw) create(b *testing.B) {
	for _, m := range r.mounts {
		must(b, unix.Mkdir(m+r.pod, 0o755))
		if r.v2 {
			must(b, writeFile(m+r.pod+"/cgroup.subtree_control", "+cpu +memory +pids"))
		}
		must(b, unix.Mkdir(m+r.pod+"/pause", 0o755))
		must(b, unix.Mkdir(m+r.pod+"/app", 0o755))
	}
	if r.v2 {
		app := r.l.unified + r.pod + "/app/"
		must(b, writeFile(app+"memory.max", "268435456"))
		must(b, writeFile(app+"cpu.weight", "10"))
		must(b, writeFile(app+"cpu.max", "50000 100000"))
		must(b, writeFile(app+"pids.max", "77"))
		return
	}
	must(b, writeFile(r.l.v1["memory"]+r.pod+"/app/memory.limit_in_bytes", "268435456"))
	cpu := r.l.v1["cpu"] + r.pod + "/app/"
	must(b, writeFile(cpu+"cpu.shares", "256"))
	must(b, writeFile(cpu+"cpu.cfs_period_us", "100000"))
	must(b, writeFile(cpu+"cpu.cfs_quota_us", "50000"))
	must(b, writeFile(r.l.v1["pids"]+r.pod+"/app/pids.max", "77"))
}

func (r *raw) add(b *testing.B, pid int) {
	for _, m := range r.mounts {
		must(b, writeFile(m+r.pod+"/app/cgroup.procs", strconv.Itoa(pid)))
	}
}

// kill: v2 cgroup.kill and poll cgroup.events; v1 freeze, kill, thaw and
// poll cgroup.procs.
func (r *raw) kill(b *testing.B) {
	if r.v2 {
		dir := r.l.unified + r.pod
		must(b, writeFile(dir+"/cgroup.kill", "1"))
		for {
			s, err := readFile(dir + "/cgroup.events")
			must(b, err)
			if strings.Contains(s, "populated 0") {
				return
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	fz := r.l.v1["freezer"] + r.pod + "/app/"
	must(b, writeFile(fz+"freezer.state", "FROZEN"))
	for {
		s, err := readFile(fz + "freezer.state")
		must(b, err)
		if strings.TrimSpace(s) == "FROZEN" {
			break
		}
		time.Sleep(20 * time.Microsecond)
	}
	pids, err := readPids(fz + "cgroup.procs")
	must(b, err)
	for _, p := range pids {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	must(b, writeFile(fz+"freezer.state", "THAWED"))
	for {
		pids, err := readPids(fz + "cgroup.procs")
		must(b, err)
		if len(pids) == 0 {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

func (r *raw) remove(b *testing.B) {
	for _, m := range r.mounts {
		for _, d := range []string{r.pod + "/app", r.pod + "/pause", r.pod} {
			for {
				err := unix.Rmdir(m + d)
				if err != unix.EBUSY {
					must(b, err)
					break
				}
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
}

// containerdCycle runs the create/limits/add/remove cycle with
// containerd/cgroups: cgroup1 with memory, cpu and pids, or cgroup2.
type containerdCycle struct {
	s    *System
	path string
	hier cgroup1.InitOpts
}

func newContainerd(b *testing.B, s *System) *containerdCycle {
	c := &containerdCycle{s: s, path: testParent + "/bench"}
	if !s.v2() {
		// containerd's v1 controllers take the directory above the mounts.
		root := parentDir(s.l.v1["memory"])
		c.hier = cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) {
			return []cgroup1.Subsystem{cgroup1.NewMemory(root), cgroup1.NewCpu(root), cgroup1.NewPids(root)}, nil
		})
	}
	return c
}

func (c *containerdCycle) cycle(b *testing.B, pid int, hold Cgroup) {
	limit, quota, period, shares := int64(256<<20), int64(50000), uint64(100000), uint64(256)
	if c.s.v2() {
		weight := SharesToWeight(shares)
		pod, err := cgroup2.NewManager(c.s.l.unified, c.path, &cgroup2.Resources{})
		must(b, err)
		pause, err := pod.NewChild("pause", &cgroup2.Resources{})
		must(b, err)
		app, err := pod.NewChild("app", &cgroup2.Resources{
			Memory: &cgroup2.Memory{Max: &limit},
			CPU:    &cgroup2.CPU{Weight: &weight, Max: cgroup2.NewCPUMax(&quota, &period)},
			Pids:   &cgroup2.Pids{Max: 77},
		})
		must(b, err)
		must(b, app.AddProc(uint64(pid)))
		must(b, hold.AddProcess(pid))
		must(b, app.Delete())
		must(b, pause.Delete())
		must(b, pod.Delete())
		return
	}
	pod, err := cgroup1.New(cgroup1.StaticPath(c.path), &specs.LinuxResources{}, c.hier)
	must(b, err)
	pause, err := pod.New("pause", &specs.LinuxResources{})
	must(b, err)
	app, err := pod.New("app", &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(77))},
	})
	must(b, err)
	must(b, app.AddProc(uint64(pid)))
	must(b, hold.AddProcess(pid))
	must(b, app.Delete())
	must(b, pause.Delete())
	must(b, pod.Delete())
}

func ptr[T any](v T) *T { return &v }
