//go:build linux

package criserver

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/podkit/podkit/sandbox"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// state is the CRI state of r.
func (r *sandboxRecord) state() runtimeapi.PodSandboxState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.sb == nil || r.sb.State() != sandbox.StateReady {
		return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	}
	return runtimeapi.PodSandboxState_SANDBOX_READY
}

// PodSandboxStatus returns the status of one sandbox.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	r := s.store.sandbox(req.GetPodSandboxId())
	if r == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	cfg := r.Config
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	st := &runtimeapi.PodSandboxStatus{
		Id: r.ID, Metadata: cfg.GetMetadata(), State: r.state(), CreatedAt: r.CreatedAt,
		Network: r.networkStatus(),
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: &runtimeapi.NamespaceOption{
			Network: ns.GetNetwork(), Pid: ns.GetPid(), Ipc: ns.GetIpc()}}},
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), RuntimeHandler: r.Handler,
	}
	resp := &runtimeapi.PodSandboxStatusResponse{Status: st}
	if req.GetVerbose() {
		resp.Info = map[string]string{"runDir": s.cfg.RunDir}
		if r.sb != nil {
			resp.Info["pid"] = strconv.Itoa(r.sb.PausePid())
		}
	}
	return resp, nil
}

// ListPodSandbox lists the sandboxes that match the filter.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	f := req.GetFilter()
	var items []*runtimeapi.PodSandbox
	for _, r := range s.store.listSandboxes() {
		state := r.state()
		if f.GetId() != "" && f.GetId() != r.ID ||
			f.GetState() != nil && f.GetState().GetState() != state ||
			!labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		items = append(items, &runtimeapi.PodSandbox{Id: r.ID, Metadata: r.Config.GetMetadata(), State: state,
			CreatedAt: r.CreatedAt, Labels: r.Config.GetLabels(), Annotations: r.Config.GetAnnotations(),
			RuntimeHandler: r.Handler})
	}
	slices.SortFunc(items, func(a, b *runtimeapi.PodSandbox) int { return cmp.Compare(b.CreatedAt, a.CreatedAt) })
	return &runtimeapi.ListPodSandboxResponse{Items: items}, nil
}

// labelsMatch reports whether labels has every pair of selector.
func labelsMatch(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
