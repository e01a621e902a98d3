//go:build linux

package criserver

import (
	"context"
	"io/fs"
	"path/filepath"

	"github.com/podkit/podkit/sandbox"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func u64(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }

func cpuStats(u sandbox.Usage) *runtimeapi.CpuUsage {
	return &runtimeapi.CpuUsage{Timestamp: u.Timestamp.UnixNano(), UsageCoreNanoSeconds: u64(uint64(u.CPU))}
}

func memoryStats(u sandbox.Usage) *runtimeapi.MemoryUsage {
	return &runtimeapi.MemoryUsage{Timestamp: u.Timestamp.UnixNano(), WorkingSetBytes: u64(u.MemoryWorkingSet),
		UsageBytes: u64(u.MemoryUsage)}
}

// containerStats is one container's usage, its writable layer included.
func (s *Server) containerStats(rec *containerRecord, u sandbox.Usage) *runtimeapi.ContainerStats {
	st := &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: rec.ID, Metadata: rec.Config.GetMetadata(),
			Labels: rec.Config.GetLabels(), Annotations: rec.Config.GetAnnotations()},
		Cpu: cpuStats(u), Memory: memoryStats(u),
	}
	if r, err := s.images.Rootfs(rec.ID); err == nil {
		var bytes, inodes uint64
		_ = filepath.WalkDir(r.Upper, func(_ string, d fs.DirEntry, err error) error {
			if err == nil {
				inodes++
				if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
					bytes += uint64(info.Size())
				}
			}
			return nil
		})
		st.WritableLayer = &runtimeapi.FilesystemUsage{Timestamp: u.Timestamp.UnixNano(),
			FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: r.Upper}, UsedBytes: u64(bytes), InodesUsed: u64(inodes)}
	}
	return st
}

// ContainerStats returns one container's usage.
func (s *Server) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	u, err := sb.ContainerStats(rec.ID)
	if err != nil {
		return nil, grpcError("ContainerStats", err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: s.containerStats(rec, u.Usage)}, nil
}

// ListContainerStats returns the usage of the containers that match the
// filter and have a cgroup (created, running or exited but not removed).
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	var out []*runtimeapi.ContainerStats
	for _, rec := range s.store.listContainers() {
		if f.GetId() != "" && f.GetId() != rec.ID || f.GetPodSandboxId() != "" && f.GetPodSandboxId() != rec.SandboxID ||
			!labelsMatch(rec.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		_, sb, err := s.sandboxOf(rec.ID)
		if err != nil {
			continue
		}
		if u, err := sb.ContainerStats(rec.ID); err == nil {
			out = append(out, s.containerStats(rec, u.Usage))
		}
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: out}, nil
}

// podStats is one sandbox's usage with its containers'.
func (s *Server) podStats(r *sandboxRecord) (*runtimeapi.PodSandboxStats, error) {
	r.mu.Lock()
	sb := r.sb
	r.mu.Unlock()
	if sb == nil {
		return nil, notFound("attached pod sandbox", r.ID)
	}
	ps, err := sb.Stats()
	if err != nil {
		return nil, grpcError("PodSandboxStats", err)
	}
	lx := &runtimeapi.LinuxPodSandboxStats{Cpu: cpuStats(ps.Usage), Memory: memoryStats(ps.Usage),
		Process: &runtimeapi.ProcessUsage{Timestamp: ps.Timestamp.UnixNano(), ProcessCount: u64(ps.Pids)}}
	for _, c := range ps.Containers {
		if rec := s.store.container(c.Name); rec != nil {
			lx.Containers = append(lx.Containers, s.containerStats(rec, c.Usage))
		}
	}
	if len(ps.Network) > 0 {
		lx.Network = &runtimeapi.NetworkUsage{Timestamp: ps.Timestamp.UnixNano()}
		for _, n := range ps.Network {
			iface := &runtimeapi.NetworkInterfaceUsage{Name: n.Name, RxBytes: u64(n.RxBytes), RxErrors: u64(n.RxErrors),
				TxBytes: u64(n.TxBytes), TxErrors: u64(n.TxErrors)}
			if n.Name == "eth0" {
				lx.Network.DefaultInterface = iface
			} else {
				lx.Network.Interfaces = append(lx.Network.Interfaces, iface)
			}
		}
	}
	return &runtimeapi.PodSandboxStats{Attributes: &runtimeapi.PodSandboxAttributes{Id: r.ID,
		Metadata: r.Config.GetMetadata(), Labels: r.Config.GetLabels(), Annotations: r.Config.GetAnnotations()}, Linux: lx}, nil
}

// PodSandboxStats returns one sandbox's usage.
func (s *Server) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	r := s.store.sandbox(req.GetPodSandboxId())
	if r == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	st, err := s.podStats(r)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: st}, nil
}

// ListPodSandboxStats returns the usage of the ready sandboxes that match
// the filter.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	f := req.GetFilter()
	var out []*runtimeapi.PodSandboxStats
	for _, r := range s.store.listSandboxes() {
		if f.GetId() != "" && f.GetId() != r.ID || !labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		if st, err := s.podStats(r); err == nil {
			out = append(out, st)
		}
	}
	return &runtimeapi.ListPodSandboxStatsResponse{Stats: out}, nil
}
