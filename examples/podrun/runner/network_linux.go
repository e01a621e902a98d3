//go:build linux

package runner

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/sandbox"
)

// networkOptions are the flags that pick the pod's network.
type networkOptions struct {
	CNINetwork string // conflist name in CNIConfDir; "" is podnet.Default()
	CNIConfDir string
	NoNetwork  bool
}

func addNetworkFlags(fs *flag.FlagSet, o *networkOptions) {
	fs.StringVar(&o.CNINetwork, "cni-network", "", "CNI network (conflist \"name\" in --cni-conf-dir) for the pod; "+
		"default: podkit's own, bridge "+podnet.DefaultBridge+" on "+podnet.DefaultSubnet+" with portmap")
	fs.StringVar(&o.CNIConfDir, "cni-conf-dir", podnet.DefaultConfDir, "directory of CNI conflists for --cni-network")
	fs.BoolVar(&o.NoNetwork, "no-network", false, "give the pod loopback only (no CNI, no hostPorts)")
}

func (o *networkOptions) check() error {
	if o.NoNetwork && o.CNINetwork != "" {
		return errors.New("podrun: --no-network and --cni-network exclude each other")
	}
	return nil
}

// podNetwork is the sandbox.Network of the pod: nil with --no-network or
// hostNetwork (hostPorts are then refused: nothing would map them).
func (r *podRun) podNetwork() (sandbox.Network, error) {
	ports := r.portMappings()
	if r.pod.Config.HostNetwork {
		return nil, nil
	}
	if r.o.NoNetwork {
		if len(ports) > 0 {
			return nil, fmt.Errorf("hostPort %d needs a pod network (drop --no-network)", ports[0].HostPort)
		}
		return nil, nil
	}
	cfg := podnet.Config{List: podnet.Default()}
	if r.o.CNINetwork != "" {
		cfg = podnet.Config{Name: r.o.CNINetwork, ConfDir: r.o.CNIConfDir}
	}
	n, err := podnet.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("pod network: %w (the default network needs Debian's containernetworking-plugins "+
			"and iptables, which examples/run.sh installs; or run with --no-network)", err)
	}
	ref := podnet.PodRef{Name: r.pod.Name, Namespace: r.pod.Namespace, UID: r.pod.UID}
	return n.For(ref, podnet.AttachOptions{PortMappings: ports}), nil
}

// portMappings are the hostPorts of every container.
func (r *podRun) portMappings() []podnet.PortMapping {
	var out []podnet.PortMapping
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for _, c := range list {
			for _, p := range c.Ports {
				if p.HostPort != 0 {
					out = append(out, podnet.PortMapping{HostPort: int32(p.HostPort), ContainerPort: int32(p.Port),
						Protocol: strings.ToLower(p.Protocol), HostIP: p.HostIP})
				}
			}
		}
	}
	return out
}

// podIPs are the pod's addresses: the network's, or with hostNetwork the
// host's (as the kubelet reports a host-network pod's IP: the node's).
func (r *podRun) podIPs() []netip.Addr {
	var out []netip.Addr
	if !r.pod.Config.HostNetwork {
		for _, p := range r.sb.IPs() {
			out = append(out, p.Addr())
		}
		return out
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().IsGlobalUnicast() && !ip.IsLinkLocalUnicast() {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// podIPString is the status.podIP column: the first address, IPv4 first.
func podIPString(ips []netip.Addr) string {
	for _, v4 := range []bool{true, false} {
		for _, ip := range ips {
			if ip.Is4() == v4 {
				return ip.String()
			}
		}
	}
	return ""
}

// leftoverNetwork is what removing an earlier run's pod detaches with: the
// network the flags name (default podkit's own). Detach goes by libcni's
// cache of the pod's attachment, so the pod's name and ports are not
// needed. Without usable plugins there is nothing to detach with.
func leftoverNetwork(o networkOptions) sandbox.LoadOptions {
	cfg := podnet.Config{List: podnet.Default()}
	if o.CNINetwork != "" {
		cfg = podnet.Config{Name: o.CNINetwork, ConfDir: o.CNIConfDir}
	}
	n, err := podnet.New(cfg)
	if err != nil {
		return sandbox.LoadOptions{}
	}
	return sandbox.LoadOptions{Network: n.For(podnet.PodRef{}, podnet.AttachOptions{})}
}
