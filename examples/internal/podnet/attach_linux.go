//go:build linux

package podnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"golang.org/x/sys/unix"
)

// PodRef identifies a pod to the plugins. ID is the CNI container ID (the
// sandbox ID; the kubelet's runtimes pass the pod sandbox ID); the others
// become K8S_POD_NAME, K8S_POD_NAMESPACE and K8S_POD_UID.
type PodRef struct {
	ID        string
	Name      string
	Namespace string
	UID       string
}

// PortMapping is one hostPort, as in the portMappings capability.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`         // "tcp" (default) or "udp"
	HostIP        string `json:"hostIP,omitempty"` // "" for every host address
}

// AttachOptions are the per-pod runtime arguments of an Attach.
type AttachOptions struct {
	PortMappings []PortMapping
}

// Result is what the plugins report for the pod.
type Result struct {
	Interface string     // the pod's interface, e.g. "eth0"
	MAC       string     // its MAC address, if reported
	IPs       []IPConfig // the pod's addresses, IPv4 first
	// Raw is the plugins' full result (spec 1.0.0 form).
	Raw *types100.Result
}

// IPConfig is one address of the pod with its prefix and gateway.
type IPConfig struct {
	Address netip.Prefix // e.g. 10.87.0.5/16
	Gateway netip.Addr   // the zero Addr if none
}

// IPv4 is the pod's first IPv4 address, or the zero Addr.
func (r *Result) IPv4() netip.Addr { return r.first(true) }

// IPv6 is the pod's first IPv6 address, or the zero Addr.
func (r *Result) IPv6() netip.Addr { return r.first(false) }

func (r *Result) first(v4 bool) netip.Addr {
	for _, c := range r.IPs {
		if c.Address.Addr().Is4() == v4 {
			return c.Address.Addr()
		}
	}
	return netip.Addr{}
}

// validate checks what becomes CNI_ARGS ("K=V;K=V") and CNI_CONTAINERID.
func (p PodRef) validate() error {
	if p.ID == "" || len(p.ID) > 200 || !validIDByte(p.ID[0], true) {
		return invalid("PodRef.ID", p.ID, "must be 1..200 bytes of [A-Za-z0-9_.-], starting alphanumeric")
	}
	for i := range len(p.ID) {
		if !validIDByte(p.ID[i], false) {
			return invalid("PodRef.ID", p.ID, "must be 1..200 bytes of [A-Za-z0-9_.-], starting alphanumeric")
		}
	}
	for _, f := range []struct{ name, v string }{{"PodRef.Name", p.Name}, {"PodRef.Namespace", p.Namespace}, {"PodRef.UID", p.UID}} {
		if len(f.v) > 253 || strings.ContainsAny(f.v, ";= \t\n\x00") {
			return invalid(f.name, f.v, "must be at most 253 bytes without ';', '=' or whitespace")
		}
	}
	return nil
}

func validIDByte(c byte, first bool) bool {
	alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	return alnum || (!first && (c == '_' || c == '.' || c == '-'))
}

func (o AttachOptions) normalize() ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(o.PortMappings))
	for i, m := range o.PortMappings {
		field := fmt.Sprintf("AttachOptions.PortMappings[%d]", i)
		if m.HostPort < 1 || m.HostPort > 65535 {
			return nil, invalid(field+".HostPort", fmt.Sprint(m.HostPort), "must be 1..65535")
		}
		if m.ContainerPort < 1 || m.ContainerPort > 65535 {
			return nil, invalid(field+".ContainerPort", fmt.Sprint(m.ContainerPort), "must be 1..65535")
		}
		m.Protocol = strings.ToLower(m.Protocol)
		switch m.Protocol {
		case "":
			m.Protocol = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return nil, invalid(field+".Protocol", m.Protocol, "must be tcp, udp or sctp")
		}
		if m.HostIP != "" {
			if _, err := netip.ParseAddr(m.HostIP); err != nil {
				return nil, invalid(field+".HostIP", m.HostIP, "%v", err)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// runtimeConf is what the kubelet's runtimes (containerd's CRI through
// go-cni, CRI-O through ocicni) pass for a pod sandbox.
func (n *Network) runtimeConf(pod PodRef, netns string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: pod.ID,
		NetNS:       netns,
		IfName:      n.cfg.IfName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", pod.Namespace},
			{"K8S_POD_NAME", pod.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", pod.ID},
			{"K8S_POD_UID", pod.UID},
		},
	}
	if len(ports) > 0 {
		rt.CapabilityArgs = map[string]any{"portMappings": ports}
	}
	return rt
}

// Attach connects the network namespace at netnsPath to the network (CNI
// ADD). On failure everything the plugins did is undone (CNI DEL) and the
// error, an *Error, wraps ErrAttach.
func (n *Network) Attach(ctx context.Context, pod PodRef, netnsPath string, opts AttachOptions) (*Result, error) {
	if err := pod.validate(); err != nil {
		return nil, err
	}
	ports, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if netnsPath == "" || !strings.HasPrefix(netnsPath, "/") {
		return nil, invalid("netnsPath", netnsPath, "must be an absolute path")
	}
	if _, err := os.Stat(netnsPath); err != nil {
		return nil, invalid("netnsPath", netnsPath, "%v", err)
	}
	fail := func(err error) error {
		return &Error{Op: "attach", Network: n.list.Name, ID: pod.ID, NetNS: netnsPath, Attempts: 1, Err: err}
	}
	rt := n.runtimeConf(pod, netnsPath, ports)
	if cached, _ := n.cni.GetNetworkListCachedResult(n.list, rt); cached != nil {
		return nil, fail(ErrAttached)
	}
	out, err := n.add(ctx, rt)
	if err != nil {
		// A failed first pod takes back what its plugins made.
		if rerr := n.releaseHost(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, fmt.Errorf("%w: %w", ErrRollback, rerr))
		}
		return nil, fail(err)
	}
	return out, nil
}

// add runs the ADD under the host lock (shared), first noting what the
// plugins are about to make on the host; on failure it undoes what the
// plugins did (CNI DEL) and returns an error wrapping ErrAttach.
func (n *Network) add(ctx context.Context, rt *libcni.RuntimeConf) (*Result, error) {
	unlock, err := hostLock(unix.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttach, err)
	}
	defer unlock()
	if err := n.noteHost(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttach, err)
	}
	st := &rollbackState{}
	ctx = context.WithValue(ctx, rollbackKey{}, st)
	res, err := n.cni.AddNetworkList(ctx, n.list, rt)
	if err == nil {
		var out *Result
		if out, err = convertResult(res, n.cfg.IfName); err == nil {
			return out, nil
		}
	}
	errs := []error{ErrAttach, err}
	if isExhausted(err) {
		errs = append(errs, ErrAddressesExhausted)
	}
	// The rollback must run even if ctx is what made ADD fail.
	rollback := context.WithoutCancel(ctx)
	if derr := n.cni.DelNetworkList(rollback, n.present(), rt); derr != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrRollback, derr))
	}
	return nil, errors.Join(errs...)
}

// present is the conflist without the plugins that cannot be found now: a
// missing plugin did nothing to undo, and libcni's DEL stops at the first
// plugin that fails, which would skip the DEL of the others.
func (n *Network) present() *libcni.NetworkConfigList {
	list := *n.list
	list.Plugins = nil
	for _, p := range n.list.Plugins {
		if _, err := invoke.FindInPath(p.Network.Type, n.cfg.PluginDirs); err == nil {
			list.Plugins = append(list.Plugins, p)
		}
	}
	return &list
}

// isExhausted recognises host-local's "no IP addresses available in range
// set" (it has no error code of its own).
func isExhausted(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no IP addresses available")
}

func convertResult(res types.Result, ifName string) (*Result, error) {
	r, err := types100.GetResult(res)
	if err != nil {
		return nil, err
	}
	out := &Result{Interface: ifName, Raw: r}
	podIf := -1
	for i, itf := range r.Interfaces {
		if itf.Sandbox != "" && itf.Name == ifName {
			podIf, out.MAC = i, itf.Mac
		}
	}
	for _, ip := range r.IPs {
		if ip.Interface != nil && podIf >= 0 && *ip.Interface != podIf {
			continue
		}
		addr, ok := netip.AddrFromSlice(ip.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ip.Address.Mask.Size()
		c := IPConfig{Address: netip.PrefixFrom(addr.Unmap(), ones)}
		if gw, ok := netip.AddrFromSlice(ip.Gateway); ok {
			c.Gateway = gw.Unmap()
		}
		out.IPs = append(out.IPs, c)
	}
	sortV4First(out.IPs)
	if len(out.IPs) == 0 {
		return nil, fmt.Errorf("plugins reported no address for %s", ifName)
	}
	return out, nil
}

func sortV4First(ips []IPConfig) {
	for i := 1; i < len(ips); i++ {
		for j := i; j > 0 && ips[j].Address.Addr().Is4() && !ips[j-1].Address.Addr().Is4(); j-- {
			ips[j], ips[j-1] = ips[j-1], ips[j]
		}
	}
}
