package podnet

import (
	"fmt"
	"net/netip"
)

// Default network parameters (see the package documentation for why this
// subnet).
const (
	DefaultNetworkName = "podkit"
	DefaultBridge      = "podkit0"
	DefaultSubnet      = "10.87.0.0/16"
)

// BridgeOptions shape a bridge network: one Linux bridge on the host, a
// veth per pod, host-local IPAM, optionally portmap and firewall.
type BridgeOptions struct {
	Name    string         // conflist name, also host-local's lease directory
	Bridge  string         // bridge device on the host (at most 15 bytes)
	Subnets []netip.Prefix // one IPv4 and/or one IPv6 subnet; .1 is the gateway
	// NoMasquerade turns off the bridge plugin's ipMasq (source NAT for
	// traffic leaving the subnet). Pods then reach only the host and each
	// other unless something else routes for them.
	NoMasquerade bool
	NoPortMap    bool // leave out portmap (no hostPorts)
	NoFirewall   bool // leave out the firewall plugin
}

// Default is podkit's default network: DefaultNetworkName on bridge
// DefaultBridge with DefaultSubnet, masquerade, portmap and firewall.
func Default() *ConfList {
	l, err := BridgeConfList(BridgeOptions{
		Name:    DefaultNetworkName,
		Bridge:  DefaultBridge,
		Subnets: []netip.Prefix{netip.MustParsePrefix(DefaultSubnet)},
	})
	if err != nil {
		panic(err) // the constants above are valid
	}
	return l
}

// BridgeConfList builds a conflist (CNI spec 1.0.0) from o.
func BridgeConfList(o BridgeOptions) (*ConfList, error) {
	if o.Name == "" {
		return nil, invalid("BridgeOptions.Name", "", "must be set")
	}
	if err := validIfName(o.Bridge); err != nil {
		return nil, invalid("BridgeOptions.Bridge", o.Bridge, "%v", err)
	}
	var ranges []any
	routes := []any{}
	seen := map[bool]bool{}
	for i, p := range o.Subnets {
		field := fmt.Sprintf("BridgeOptions.Subnets[%d]", i)
		if !p.IsValid() || p.Masked() != p {
			return nil, invalid(field, p.String(), "must be a valid subnet with no host bits")
		}
		v4 := p.Addr().Is4()
		if seen[v4] {
			return nil, invalid(field, p.String(), "at most one IPv4 and one IPv6 subnet")
		}
		seen[v4] = true
		if (v4 && p.Bits() > 30) || (!v4 && p.Bits() > 126) {
			return nil, invalid(field, p.String(), "too small for a gateway and a pod")
		}
		ranges = append(ranges, []any{map[string]any{"subnet": p.String()}})
		def := "0.0.0.0/0"
		if !v4 {
			def = "::/0"
		}
		routes = append(routes, map[string]any{"dst": def})
	}
	if len(ranges) == 0 {
		return nil, invalid("BridgeOptions.Subnets", "", "at least one subnet")
	}
	plugins := []map[string]any{{
		"type":        "bridge",
		"bridge":      o.Bridge,
		"isGateway":   true,
		"ipMasq":      !o.NoMasquerade,
		"hairpinMode": true,
		"ipam": map[string]any{
			"type":   "host-local",
			"ranges": ranges,
			"routes": routes,
		},
	}}
	if !o.NoPortMap {
		plugins = append(plugins, map[string]any{
			"type": "portmap", "snat": true,
			"capabilities": map[string]any{"portMappings": true},
		})
	}
	if !o.NoFirewall {
		plugins = append(plugins, map[string]any{"type": "firewall", "backend": "iptables"})
	}
	return &ConfList{CNIVersion: "1.0.0", Name: o.Name, Plugins: plugins}, nil
}
