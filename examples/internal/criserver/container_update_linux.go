//go:build linux

package criserver

import (
	"context"

	"github.com/podkit/podkit/sandbox"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateContainerResources changes a running container's limits in place;
// a zero field keeps its value.
func (s *Server) UpdateContainerResources(ctx context.Context, req *runtimeapi.UpdateContainerResourcesRequest) (*runtimeapi.UpdateContainerResourcesResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	lx := req.GetLinux()
	if lx.GetCpusetCpus() != "" || lx.GetCpusetMems() != "" || len(lx.GetHugepageLimits()) > 0 || len(lx.GetUnified()) > 0 {
		return nil, unsupported("linux (cpuset, hugepages, unified)", "")
	}
	r := sandbox.Resources{MemoryLimit: lx.GetMemoryLimitInBytes(), CPUShares: lx.GetCpuShares(),
		CPUQuotaUs: lx.GetCpuQuota(), CPUPeriodUs: lx.GetCpuPeriod()}
	if err := sb.UpdateContainerResources(ctx, rec.ID, r); err != nil {
		return nil, grpcError("UpdateContainerResources", err)
	}
	return &runtimeapi.UpdateContainerResourcesResponse{}, nil
}

// ReopenContainerLog makes the container's output go to a new file at its
// log path, after kubelet renamed (rotated) the old one.
func (s *Server) ReopenContainerLog(ctx context.Context, req *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	if err := sb.ReopenContainerLog(rec.ID); err != nil {
		return nil, grpcError("ReopenContainerLog", err)
	}
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}
