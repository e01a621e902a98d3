//go:build linux

package criserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/podkit/podkit/examples/internal/podnet"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podRef names a sandbox to the CNI plugins as the kubelet's runtimes do.
func podRef(id string, md *runtimeapi.PodSandboxMetadata) podnet.PodRef {
	return podnet.PodRef{ID: id, Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid()}
}

// portMappings turns the CRI's port mappings into CNI's portMappings
// capability arguments.
func portMappings(pms []*runtimeapi.PortMapping) ([]podnet.PortMapping, error) {
	var out []podnet.PortMapping
	for i, pm := range pms {
		if pm.GetHostPort() == 0 {
			continue // a container port without a hostPort needs nothing on the host
		}
		proto := strings.ToLower(pm.GetProtocol().String())
		if proto != "tcp" && proto != "udp" {
			return nil, unsupported(fmt.Sprintf("port_mappings[%d].protocol", i), pm.GetProtocol())
		}
		out = append(out, podnet.PortMapping{HostPort: pm.GetHostPort(), ContainerPort: pm.GetContainerPort(),
			Protocol: proto, HostIP: pm.GetHostIp()})
	}
	return out, nil
}

// attach connects r's pod to the network and records its IPs; the caller
// owns r.
func (s *Server) attach(ctx context.Context, r *sandboxRecord, netns string) error {
	if s.cfg.Network == nil || hostNetwork(r.Config) { // the host's addresses, no CNI
		return nil
	}
	pms, err := portMappings(r.Config.GetPortMappings())
	if err != nil {
		return err
	}
	res, err := s.cfg.Network.Attach(ctx, podRef(r.ID, r.Config.GetMetadata()), netns, podnet.AttachOptions{PortMappings: pms})
	if err != nil {
		return grpcError("RunPodSandbox: pod network", err)
	}
	r.IPs = nil
	for _, ip := range res.IPs {
		r.IPs = append(r.IPs, ip.Address.Addr().String())
	}
	r.attached = true
	return nil
}

// detach releases r's network resources (CNI DEL with the cached result);
// the caller holds r.mu. netns may be "" once the namespace is gone.
func (s *Server) detach(ctx context.Context, r *sandboxRecord, netns string) error {
	if s.cfg.Network == nil || !r.attached {
		return nil
	}
	if err := s.cfg.Network.Detach(ctx, podRef(r.ID, r.Config.GetMetadata()), netns); err != nil {
		return grpcError("pod network", err)
	}
	r.attached = false
	return nil
}

// networkStatus is the CRI's view of r's addresses.
func (r *sandboxRecord) networkStatus() *runtimeapi.PodSandboxNetworkStatus {
	st := &runtimeapi.PodSandboxNetworkStatus{}
	for i, ip := range r.IPs {
		if i == 0 {
			st.Ip = ip
		} else {
			st.AdditionalIps = append(st.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
		}
	}
	return st
}
