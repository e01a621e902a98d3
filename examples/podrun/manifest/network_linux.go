//go:build linux

package manifest

import (
	"net/netip"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// Downward API field paths podrun resolves (valueFrom.fieldRef).
const (
	FieldPodIP     = "status.podIP"
	FieldPodIPs    = "status.podIPs"
	fieldName      = "metadata.name"
	fieldNamespace = "metadata.namespace"
)

// fieldRef resolves a valueFrom.fieldRef env var: status.podIP(s) are
// recorded in ct.FieldEnv and left as placeholders until SetPodIPs, every
// other path (downward_linux.go) at once. ok is false when the variable
// is left out.
func (c *converter) fieldRef(field string, e kubeapi.EnvVar, ct *Container) (value string, ok bool) {
	fr := e.ValueFrom.FieldRef
	switch p := fr.FieldPath; p {
	case FieldPodIP, FieldPodIPs:
		if v := fr.APIVersion; v != "" && v != "v1" {
			c.bad(field+".valueFrom.fieldRef.apiVersion", "%q (want v1)", v)
			return "", false
		}
		// A placeholder: $(NAME) references stay as written until SetPodIPs.
		ct.FieldEnv = append(ct.FieldEnv, FieldEnv{Name: e.Name, FieldPath: p})
		return "$(" + e.Name + ")", true
	default:
		return c.podField(field+".valueFrom.fieldRef", fr.APIVersion, p, false)
	}
}

// hostPort checks a port's hostPort and hostIP, as the API server does:
// with hostNetwork the hostPort is the containerPort.
func (c *converter) hostPort(f string, p kubeapi.ContainerPort, hostNetwork bool, out *Port) {
	if p.HostPort < 0 || p.HostPort > 65535 {
		c.bad(f+".hostPort", "%d out of range 1-65535", p.HostPort)
		return
	}
	if hostNetwork && p.HostPort != 0 && p.HostPort != p.ContainerPort {
		c.bad(f+".hostPort", "%d must equal containerPort %d with hostNetwork", p.HostPort, p.ContainerPort)
	}
	if p.HostIP != "" {
		if _, err := netip.ParseAddr(p.HostIP); err != nil {
			c.bad(f+".hostIP", "%q is not an IP address", p.HostIP)
		}
		if p.HostPort == 0 {
			c.bad(f+".hostIP", "set without hostPort")
		}
	}
	if !hostNetwork {
		out.HostPort, out.HostIP = int(p.HostPort), p.HostIP
	}
}

// podIPStrings converts the pod's addresses to strings, IPv4 first.
func podIPStrings(ips []netip.Addr) []string {
	var v4, v6 []string
	for _, ip := range ips {
		if ip.Is4() {
			v4 = append(v4, ip.String())
		} else {
			v6 = append(v6, ip.String())
		}
	}
	return append(v4, v6...)
}

// SetPodIPs fills in the status.podIP (the first address, IPv4 first) and
// status.podIPs (every address, comma separated, as the kubelet does)
// variables of every container, and their $(NAME) references in command,
// args and other variables, once the pod's addresses are known. (A
// "$$(NAME)" escape in the manifest is replaced too.)
func (p *Pod) SetPodIPs(ips []netip.Addr) {
	all := podIPStrings(ips)
	first := ""
	if len(all) > 0 {
		first = all[0]
	}
	for _, list := range [][]Container{p.InitContainers, p.Containers} {
		for i := range list {
			c := &list[i]
			for _, fe := range c.FieldEnv {
				v := first
				if fe.FieldPath == FieldPodIPs {
					v = strings.Join(all, ",")
				}
				ref := "$(" + fe.Name + ")"
				for j := range c.Spec.Args {
					c.Spec.Args[j] = strings.ReplaceAll(c.Spec.Args[j], ref, v)
				}
				for j := range c.Spec.Env {
					c.Spec.Env[j] = strings.ReplaceAll(c.Spec.Env[j], ref, v)
				}
			}
		}
	}
}
