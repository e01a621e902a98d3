//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin"
)

// Usage is one cgroup's resource usage at one moment, with what the CRI's
// ContainerStats and PodSandboxStats carry.
type Usage struct {
	Timestamp time.Time
	// CPU is the cumulative CPU time (usage_core_nano_seconds).
	CPU time.Duration
	// MemoryWorkingSet is MemoryUsage minus the inactive page cache, as
	// kubelet and cAdvisor compute it (working_set_bytes; what evictions
	// and kubectl top use).
	MemoryWorkingSet uint64
	// MemoryUsage is the charged memory, page cache included (usage_bytes).
	MemoryUsage uint64
	// MemoryLimit is the limit in effect, cgroup.NoLimit when none.
	MemoryLimit uint64
	// Pids is the number of tasks (threads included), pids.current.
	Pids uint64
	// OOMKills counts processes the kernel OOM killer killed in the cgroup.
	OOMKills uint64
}

// NanoCores is the average CPU use between prev and u in billionths of a
// core (the CRI's usage_nano_cores); 0 when prev is not older than u.
func (u Usage) NanoCores(prev Usage) uint64 {
	dt := u.Timestamp.Sub(prev.Timestamp)
	if dt <= 0 || u.CPU < prev.CPU {
		return 0
	}
	return uint64(float64(u.CPU-prev.CPU) / float64(dt) * 1e9)
}

// ContainerStats is the usage of one container's cgroup leaf.
type ContainerStats struct {
	Name string
	Usage
}

// PodStats is the usage of the whole pod cgroup (pause and every
// container, including the processes of exited runs while their leaf
// exists) and of each container.
type PodStats struct {
	ID string
	Usage
	Containers []ContainerStats
	// Network has the counters of every interface of the pod's network
	// namespace (the CRI's NetworkUsage), read by netlink from its pin.
	Network []InterfaceStats
}

// InterfaceStats are one network interface's counters since it was made.
type InterfaceStats struct {
	Name                         string
	RxBytes, RxErrors, RxPackets uint64
	TxBytes, TxErrors, TxPackets uint64
}

// networkStats lists the interfaces of the network namespace pinned at pin.
func networkStats(pin string) ([]InterfaceStats, error) {
	h, err := nsjoin.Open(pin, nsjoin.Net)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	nh, err := nsjoin.NetlinkHandle(h)
	if err != nil {
		return nil, err
	}
	defer nh.Close()
	links, err := nh.LinkList()
	if err != nil {
		return nil, err
	}
	var out []InterfaceStats
	for _, l := range links {
		a := l.Attrs()
		is := InterfaceStats{Name: a.Name}
		if st := a.Statistics; st != nil {
			is.RxBytes, is.RxErrors, is.RxPackets = st.RxBytes, st.RxErrors, st.RxPackets
			is.TxBytes, is.TxErrors, is.TxPackets = st.TxBytes, st.TxErrors, st.TxPackets
		}
		out = append(out, is)
	}
	return out, nil
}

// usageOf reads cg's statistics.
func usageOf(cg cgroup.Cgroup) (Usage, error) {
	st, err := cg.Stats()
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Timestamp: time.Now(), CPU: st.CPU.Usage, MemoryUsage: st.Memory.Usage,
		MemoryLimit: st.Memory.Limit, Pids: st.Pids.Current, OOMKills: st.OOMKills}
	if st.Memory.InactiveFile < st.Memory.Usage {
		u.MemoryWorkingSet = st.Memory.Usage - st.Memory.InactiveFile
	}
	return u, nil
}

// ContainerStats reads the usage of one container. A container that
// exited keeps its last figures until it is removed or restarted.
func (s *Sandbox) ContainerStats(name string) (*ContainerStats, error) {
	c, err := s.container("stats", name)
	if err != nil {
		return nil, err
	}
	cg := c.leaf()
	if cg == nil {
		return nil, newErr("stats", s.cfg.ID, name, "", fmt.Errorf("%w: container has no cgroup", ErrInvalidState))
	}
	u, err := usageOf(cg)
	if err != nil {
		return nil, newErr("stats", s.cfg.ID, name, cg.Path(), err)
	}
	return &ContainerStats{Name: name, Usage: u}, nil
}

// Stats reads the usage of the pod cgroup and of every container that has
// a cgroup leaf, in creation order. The containers are read first: the
// pod's cumulative counters, read after them, cover theirs.
func (s *Sandbox) Stats() (*PodStats, error) {
	s.mu.Lock()
	pc := s.cg
	s.mu.Unlock()
	if pc == nil || pc.pod == nil {
		return nil, newErr("stats", s.cfg.ID, "", "", fmt.Errorf("%w: no pod cgroup", ErrInvalidState))
	}
	ps := &PodStats{ID: s.cfg.ID}
	for _, c := range s.snapshotContainers() {
		cg := c.leaf()
		if cg == nil {
			continue
		}
		cu, err := usageOf(cg)
		if errors.Is(err, cgroup.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, newErr("stats", s.cfg.ID, c.spec.Name, cg.Path(), err)
		}
		ps.Containers = append(ps.Containers, ContainerStats{Name: c.spec.Name, Usage: cu})
	}
	u, err := usageOf(pc.pod.Cgroup())
	if err != nil {
		return nil, newErr("stats", s.cfg.ID, "", pc.rel, err)
	}
	ps.Usage = u
	if pin := s.Namespaces()["net"]; pin != "" {
		if ps.Network, err = networkStats(pin); err != nil {
			return nil, newErr("stats: network", s.cfg.ID, "", pin, err)
		}
	}
	return ps, nil
}
