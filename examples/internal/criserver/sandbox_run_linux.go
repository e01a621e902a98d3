//go:build linux

package criserver

import (
	"context"
	"strings"
	"time"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RunPodSandbox creates and starts a pod sandbox.
func (s *Server) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	cfg := req.GetConfig()
	sbcfg, err := s.sandboxConfig(req)
	if err != nil {
		return nil, err
	}
	key := sandboxKey(cfg.GetMetadata())
	if err := s.store.reserve(key, sbcfg.ID); err != nil {
		return nil, status.Error(codes.AlreadyExists, err.Error())
	}
	rec := &sandboxRecord{ID: sbcfg.ID, Config: cfg, CreatedAt: time.Now().UnixNano(), Handler: req.GetRuntimeHandler()}
	sb, err := sandbox.Create(ctx, sbcfg)
	if err != nil {
		s.store.release(key, sbcfg.ID)
		return nil, grpcError("RunPodSandbox", err)
	}
	rec.sb = sb
	err = s.attach(ctx, rec, sb.Namespaces()["net"])
	if err == nil {
		if err = s.store.saveSandbox(rec); err != nil {
			err = grpcError("RunPodSandbox: saving its record", err)
		}
	}
	if err != nil { // undo in reverse order
		bg := context.WithoutCancel(ctx)
		_ = s.detach(bg, rec, sb.Namespaces()["net"])
		_ = sb.Destroy(bg)
		s.store.release(key, sbcfg.ID)
		return nil, err
	}
	s.store.addSandbox(rec)
	s.watchExits(rec.ID, sb)
	s.containerEvent(rec.ID, rec.ID, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	s.containerEvent(rec.ID, rec.ID, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	s.log.Info("sandbox ready", "id", rec.ID, "pod", key)
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: rec.ID}, nil
}

// sandboxConfig validates a RunPodSandbox request and turns it into a
// sandbox.Config; fields podkit cannot honour are refused by name.
func (s *Server) sandboxConfig(req *runtimeapi.RunPodSandboxRequest) (sandbox.Config, error) {
	cfg := req.GetConfig()
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" {
		return sandbox.Config{}, status.Error(codes.InvalidArgument, "config.metadata: name and namespace are required")
	}
	if h := req.GetRuntimeHandler(); h != "" {
		return sandbox.Config{}, unsupported("runtime_handler", h)
	}
	lx := cfg.GetLinux()
	ns := lx.GetSecurityContext().GetNamespaceOptions()
	var hostNS sandbox.Config
	if err := podNamespaces(ns, &hostNS); err != nil { // security_linux.go
		return sandbox.Config{}, err
	}
	if u := ns.GetUsernsOptions(); u != nil && u.GetMode() == runtimeapi.NamespaceMode_POD {
		return sandbox.Config{}, unsupported("linux.security_context.namespace_options.userns_options.mode", "POD")
	}
	if err := checkSandboxSeccomp(lx.GetSecurityContext()); err != nil {
		return sandbox.Config{}, err
	}
	if _, err := portMappings(cfg.GetPortMappings()); err != nil {
		return sandbox.Config{}, err
	}
	// A cgroup parent the kubelet names is its pod cgroup, under its QoS
	// cgroups: the kubelet made them and removes them (the sandbox must
	// not, even when empty). The server's own default goes with its last pod.
	parent := strings.Trim(lx.GetCgroupParent(), "/")
	keepParent := parent != ""
	if parent == "" {
		parent = s.cfg.CgroupParent
	}
	dns := cfg.GetDnsConfig()
	return sandbox.Config{
		ID:               newID(),
		Hostname:         cfg.GetHostname(),
		SharePID:         hostNS.SharePID,
		HostNetwork:      hostNS.HostNetwork,
		HostPID:          hostNS.HostPID,
		HostIPC:          hostNS.HostIPC,
		PauseBinary:      s.cfg.PauseBinary,
		Sysctls:          lx.GetSysctls(),
		CgroupParent:     parent,
		KeepCgroupParent: keepParent,
		RunDir:           s.cfg.RunDir,
		DNS:              sandbox.DNSConfig{Servers: dns.GetServers(), Searches: dns.GetSearches(), Options: dns.GetOptions()},
	}, nil
}

// StopPodSandbox kills every process of the sandbox; the sandbox stays
// (NOTREADY) until RemovePodSandbox. Stopping an unknown or stopped
// sandbox succeeds.
func (s *Server) StopPodSandbox(ctx context.Context, req *runtimeapi.StopPodSandboxRequest) (_ *runtimeapi.StopPodSandboxResponse, err error) {
	r := s.store.sandbox(req.GetPodSandboxId())
	if r == nil {
		return &runtimeapi.StopPodSandboxResponse{}, nil
	}
	defer s.sandboxEventOnSuccess(r.ID, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, &err) // after the unlock
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sb != nil && !r.stopped {
		if err := r.sb.Stop(ctx, 0); err != nil {
			return nil, grpcError("StopPodSandbox", err)
		}
	}
	// The CRI releases network resources (the pod IP) at stop.
	if err := s.detach(ctx, r, r.netns()); err != nil {
		return nil, err
	}
	r.stopped = true
	if err := s.store.saveSandbox(r); err != nil {
		return nil, grpcError("StopPodSandbox: saving its record", err)
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

// RemovePodSandbox removes the sandbox and everything in it. Removing an
// unknown sandbox succeeds.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (_ *runtimeapi.RemovePodSandboxResponse, err error) {
	r := s.store.sandbox(req.GetPodSandboxId())
	if r == nil {
		return &runtimeapi.RemovePodSandboxResponse{}, nil
	}
	defer s.sandboxEventOnSuccess(r.ID, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT, &err) // after the unlock
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := s.detach(ctx, r, r.netns()); err != nil {
		return nil, err
	}
	if r.sb != nil {
		if err := r.sb.Destroy(ctx); err != nil {
			return nil, grpcError("RemovePodSandbox", err)
		}
	}
	for _, c := range s.containersOf(r.ID) { // gone with the sandbox: their rootfs and records
		if err := s.removeContainer(ctx, c, nil); err != nil {
			return nil, err
		}
	}
	if err := s.store.deleteSandbox(r); err != nil {
		return nil, grpcError("RemovePodSandbox: deleting its record", err)
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

// netns is the pinned network namespace of r's sandbox, or "" when it is
// gone.
func (r *sandboxRecord) netns() string {
	if r.sb == nil {
		return ""
	}
	return r.sb.Namespaces()["net"]
}
