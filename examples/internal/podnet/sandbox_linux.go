//go:build linux

package podnet

import (
	"context"
	"encoding/json"
	"net/netip"

	"github.com/podkit/podkit/sandbox"
)

// PodNetwork binds a Network to one pod's metadata and hostPorts: it is a
// sandbox.Network, for sandbox.Config.Network. The sandbox passes its ID
// (the CNI container ID, PodRef.ID) and its pinned network namespace.
type PodNetwork struct {
	net  *Network
	pod  PodRef
	opts AttachOptions
}

var _ sandbox.DetachCommander = (*PodNetwork)(nil)

// For binds n to a pod (pod.ID may be left empty: the sandbox's ID is
// used) and its per-pod options. To detach pods after a manager crash
// (sandbox.LoadOptions.Network), For(PodRef{}, AttachOptions{}) will do:
// Detach uses the arguments libcni cached at Attach.
func (n *Network) For(pod PodRef, opts AttachOptions) *PodNetwork {
	return &PodNetwork{net: n, pod: pod, opts: opts}
}

// Network is the network the pod is bound to.
func (p *PodNetwork) Network() *Network { return p.net }

// Attach runs Network.Attach and returns the pod's addresses.
func (p *PodNetwork) Attach(ctx context.Context, id, netnsPath string) ([]netip.Prefix, error) {
	pod := p.pod
	pod.ID = id
	res, err := p.net.Attach(ctx, pod, netnsPath, p.opts)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(res.IPs))
	for _, c := range res.IPs {
		out = append(out, c.Address)
	}
	return out, nil
}

// Detach runs Network.Detach (idempotent; netnsPath may be "").
func (p *PodNetwork) Detach(ctx context.Context, id, netnsPath string) error {
	pod := p.pod
	pod.ID = id
	return p.net.Detach(ctx, pod, netnsPath)
}

// DetachCommand is the command line that detaches pod id from another
// process (sandbox.DetachCommander): this program again, run with
// DetachArg, the network's Config and id, dispatched by this package's
// init before main (so it works in any program that links podnet, test
// binaries included).
func (p *PodNetwork) DetachCommand(id string) []string {
	cfg, err := json.Marshal(p.net.Config())
	if err != nil {
		return nil
	}
	return []string{"/proc/self/exe", DetachArg, string(cfg), id}
}
