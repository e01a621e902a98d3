//go:build linux

package criserver

import (
	"cmp"
	"context"
	"slices"

	"github.com/podkit/podkit/sandbox"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandboxContainer finds a container's state in its sandbox's status.
func sandboxContainer(sb *sandbox.Sandbox, name string) (sandbox.ContainerStatus, bool) {
	if sb == nil {
		return sandbox.ContainerStatus{}, false
	}
	return findContainer(sb.Status().Containers, name)
}

func findContainer(cs []sandbox.ContainerStatus, name string) (sandbox.ContainerStatus, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return sandbox.ContainerStatus{}, false
}

func criState(cs sandbox.ContainerStatus, ok bool) runtimeapi.ContainerState {
	switch {
	case !ok:
		return runtimeapi.ContainerState_CONTAINER_UNKNOWN
	case cs.State == sandbox.ContainerRunning:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case cs.State == sandbox.ContainerTerminated:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_CREATED
}

// ContainerStatus returns one container's status.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if rec == nil {
		return nil, err
	}
	cs, ok := sandboxContainer(sb, rec.ID)
	return &runtimeapi.ContainerStatusResponse{Status: containerStatus(rec, cs, ok)}, nil
}

// containerStatus is rec's CRI status given its state in its sandbox (ok:
// the sandbox has it).
func containerStatus(rec *containerRecord, cs sandbox.ContainerStatus, ok bool) *runtimeapi.ContainerStatus {
	cfg := rec.Config
	st := &runtimeapi.ContainerStatus{
		Id: rec.ID, Metadata: cfg.GetMetadata(), State: criState(cs, ok), CreatedAt: rec.CreatedAt,
		Image: cfg.GetImage(), ImageRef: rec.ImageRef, ImageId: rec.ImageRef,
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), Mounts: cfg.GetMounts(), LogPath: rec.LogPath,
		Resources: &runtimeapi.ContainerResources{Linux: cfg.GetLinux().GetResources()},
	}
	if !cs.StartedAt.IsZero() {
		st.StartedAt = cs.StartedAt.UnixNano()
	}
	if e := cs.Exit; e != nil {
		st.FinishedAt, st.ExitCode, st.Reason = e.Finished.UnixNano(), int32(e.ExitCode), e.Reason
	}
	if !ok {
		st.Reason = "Unknown"
	}
	r := cs.Resources
	if ok {
		st.Resources.Linux = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: r.MemoryLimit,
			CpuShares: r.CPUShares, CpuQuota: r.CPUQuotaUs, CpuPeriod: r.CPUPeriodUs}
	}
	return st
}

// ListContainers lists the containers that match the filter.
func (s *Server) ListContainers(ctx context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f := req.GetFilter()
	var out []*runtimeapi.Container
	statuses := map[string][]sandbox.ContainerStatus{} // one Status per sandbox, not per container
	for _, rec := range s.store.listContainers() {
		if f.GetId() != "" && f.GetId() != rec.ID || f.GetPodSandboxId() != "" && f.GetPodSandboxId() != rec.SandboxID ||
			!labelsMatch(rec.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		cs, seen := statuses[rec.SandboxID]
		if !seen {
			cs, _ = s.sandboxStatuses(rec.SandboxID)
			statuses[rec.SandboxID] = cs
		}
		state := criState(findContainer(cs, rec.ID))
		if f.GetState() != nil && f.GetState().GetState() != state {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: rec.ID, PodSandboxId: rec.SandboxID, Metadata: rec.Config.GetMetadata(),
			Image: rec.Config.GetImage(), ImageRef: rec.ImageRef, ImageId: rec.ImageRef, State: state, CreatedAt: rec.CreatedAt,
			Labels: rec.Config.GetLabels(), Annotations: rec.Config.GetAnnotations()})
	}
	slices.SortFunc(out, func(a, b *runtimeapi.Container) int { return cmp.Compare(b.CreatedAt, a.CreatedAt) })
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

// sandboxStatuses reads the statuses of a pod sandbox's containers (one
// Status for them all) and says whether the sandbox is attached.
func (s *Server) sandboxStatuses(sandboxID string) ([]sandbox.ContainerStatus, bool) {
	sr := s.store.sandbox(sandboxID)
	if sr == nil {
		return nil, false
	}
	sr.mu.Lock() // not held across Status: a StopPodSandbox holds it
	sb := sr.sb
	sr.mu.Unlock()
	if sb == nil {
		return nil, false
	}
	return sb.Status().Containers, true
}
