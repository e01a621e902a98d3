//go:build linux

package criserver

import (
	"context"
	"time"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandboxOf returns a container's record and its sandbox.
func (s *Server) sandboxOf(id string) (*containerRecord, *sandbox.Sandbox, error) {
	rec := s.store.container(id)
	if rec == nil {
		return nil, nil, notFound("container", id)
	}
	sr := s.store.sandbox(rec.SandboxID)
	if sr == nil {
		return rec, nil, notFound("pod sandbox", rec.SandboxID)
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.sb == nil {
		return rec, nil, status.Errorf(codes.FailedPrecondition, "pod sandbox %s of container %s is not attached", sr.ID, rec.ID)
	}
	return rec, sr.sb, nil
}

// StartContainer starts a created container.
func (s *Server) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	if err := sb.StartContainer(ctx, rec.ID); err != nil {
		return nil, grpcError("StartContainer", err)
	}
	s.containerEvent(rec.ID, rec.SandboxID, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	return &runtimeapi.StartContainerResponse{}, nil
}

// StopContainer sends SIGTERM, waits up to the timeout, then kills the
// container. Stopping an unknown or stopped container succeeds.
func (s *Server) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if rec == nil || status.Code(err) == codes.NotFound { // gone, or gone with its sandbox
		return &runtimeapi.StopContainerResponse{}, nil
	}
	if err != nil { // a sandbox not re-attached: nothing can stop it here
		return nil, err
	}
	grace := time.Duration(req.GetTimeout()) * time.Second
	if err := sb.StopContainer(ctx, rec.ID, grace); err != nil {
		return nil, grpcError("StopContainer", err)
	}
	return &runtimeapi.StopContainerResponse{}, nil
}

// RemoveContainer kills the container if it runs and removes it, its
// rootfs and its record. Removing an unknown container succeeds.
func (s *Server) RemoveContainer(ctx context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	rec, sb, _ := s.sandboxOf(req.GetContainerId())
	if rec == nil {
		return &runtimeapi.RemoveContainerResponse{}, nil
	}
	if err := s.removeContainer(ctx, rec, sb); err != nil {
		return nil, err
	}
	s.containerEvent(rec.ID, rec.SandboxID, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	return &runtimeapi.RemoveContainerResponse{}, nil
}

// removeContainer removes rec from sb (nil: already gone with its
// sandbox), then its rootfs and record.
func (s *Server) removeContainer(ctx context.Context, rec *containerRecord, sb *sandbox.Sandbox) error {
	if sb != nil {
		if err := sb.RemoveContainer(ctx, rec.ID); err != nil {
			return grpcError("RemoveContainer", err)
		}
	}
	if err := s.images.RemoveRootfs(rec.ID); err != nil {
		return imageError("RemoveContainer: rootfs", err)
	}
	if err := s.store.deleteContainer(rec); err != nil {
		return grpcError("RemoveContainer: deleting its record", err)
	}
	return nil
}

// containersOf lists the records of a sandbox's containers.
func (s *Server) containersOf(sandboxID string) []*containerRecord {
	var out []*containerRecord
	for _, r := range s.store.listContainers() {
		if r.SandboxID == sandboxID {
			out = append(out, r)
		}
	}
	return out
}
