//go:build linux

package criserver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The CRI's security fields in podkit's terms, as containerd and CRI-O
// map them.

// podNamespaces maps a pod's namespace options onto a sandbox config:
// NODE is the host's namespace, POD pid a shared PID namespace, CONTAINER
// (the default) one per container. TARGET is refused.
func podNamespaces(ns *runtimeapi.NamespaceOption, cfg *sandbox.Config) error {
	if ns.GetPid() == runtimeapi.NamespaceMode_TARGET {
		return unsupported("linux.security_context.namespace_options.pid", ns.GetPid())
	}
	cfg.HostNetwork = ns.GetNetwork() == runtimeapi.NamespaceMode_NODE
	cfg.HostIPC = ns.GetIpc() == runtimeapi.NamespaceMode_NODE
	cfg.HostPID = ns.GetPid() == runtimeapi.NamespaceMode_NODE
	cfg.SharePID = ns.GetPid() == runtimeapi.NamespaceMode_POD
	return nil
}

// hostNetwork says whether the pod runs in the host's network namespace.
func hostNetwork(pod *runtimeapi.PodSandboxConfig) bool {
	return pod.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE
}

// checkContainerNamespaces refuses a container asking for the host's PID
// namespace in a pod that has its own: podkit's containers always join
// their pod's namespaces. Network and IPC follow the pod whatever the
// container's options say, as with containerd (critest leaves them unset
// in a host-network pod).
func checkContainerNamespaces(c, pod *runtimeapi.NamespaceOption) error {
	node := runtimeapi.NamespaceMode_NODE
	if c.GetPid() == node && pod.GetPid() != node {
		return status.Errorf(codes.InvalidArgument,
			"linux.security_context.namespace_options.pid %v: the pod sandbox has %v", c.GetPid(), pod.GetPid())
	}
	return nil
}

// containerSecurity fills spec's security fields from the CRI's security
// context. A privileged container needs a privileged pod (as containerd
// requires) and gets everything of sandbox.ContainerSpec.Privileged; its
// capabilities and masked/read-only paths are ignored, as containerd's
// privileged mode overrides them.
func containerSecurity(sc *runtimeapi.LinuxContainerSecurityContext, pod *runtimeapi.PodSandboxConfig, spec *sandbox.ContainerSpec) error {
	if err := checkContainerNamespaces(sc.GetNamespaceOptions(), pod.GetLinux().GetSecurityContext().GetNamespaceOptions()); err != nil {
		return err
	}
	if sc.GetPrivileged() {
		if !pod.GetLinux().GetSecurityContext().GetPrivileged() {
			return status.Error(codes.InvalidArgument,
				"linux.security_context.privileged: the pod sandbox is not privileged (linux.security_context.privileged of the pod)")
		}
		spec.Privileged = true
		return nil
	}
	spec.Capabilities = capabilities(sc.GetCapabilities())
	// An empty list cannot be told from an unset one on the wire: both
	// keep the runtime's defaults, as with containerd.
	if p := sc.GetMaskedPaths(); len(p) > 0 {
		spec.MaskedPaths = p
	}
	if p := sc.GetReadonlyPaths(); len(p) > 0 {
		spec.ReadonlyPaths = p
	}
	return nil
}

// capabilities is the runtime default set changed as the CRI asks, in
// containerd's order: add ALL (every capability the runtime holds), drop
// ALL, then the named additions, then the named drops. Names may lack the
// CAP_ prefix; nil is the default set.
func capabilities(c *runtimeapi.Capability) []string {
	if c == nil {
		return nil
	}
	isAll := func(n string) bool { return strings.EqualFold(n, "ALL") }
	norm := func(n string) string {
		n = strings.ToUpper(n)
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		return n
	}
	set := slices.Clone(sandbox.DefaultCapabilities)
	if slices.ContainsFunc(c.GetAddCapabilities(), isAll) {
		set = slices.Clone(sandbox.AllCapabilities())
	}
	if slices.ContainsFunc(c.GetDropCapabilities(), isAll) {
		set = []string{}
	}
	for _, a := range c.GetAddCapabilities() {
		if n := norm(a); !isAll(a) && !slices.Contains(set, n) {
			set = append(set, n)
		}
	}
	for _, d := range c.GetDropCapabilities() {
		set = slices.DeleteFunc(set, func(x string) bool { return x == norm(d) })
	}
	if set == nil {
		set = []string{}
	}
	return set
}

// propagation maps the CRI's mount propagation; mounts[i] names the field
// of an unknown value.
func propagation(i int, p runtimeapi.MountPropagation) (sandbox.Propagation, error) {
	switch p {
	case runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return sandbox.PropagationPrivate, nil
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		return sandbox.PropagationHostToContainer, nil
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		return sandbox.PropagationBidirectional, nil
	}
	return "", unsupported(fmt.Sprintf("mounts[%d].propagation", i), p)
}
