//go:build linux

package criserver

import (
	"slices"
	"testing"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCapabilitiesOrder: add ALL, drop ALL, named adds, named drops, as
// containerd applies them.
func TestCapabilitiesOrder(t *testing.T) {
	without := func(set []string, c string) []string {
		return slices.DeleteFunc(slices.Clone(set), func(x string) bool { return x == c })
	}
	for _, tc := range []struct {
		add, drop []string
		want      []string
	}{
		{nil, nil, sandbox.DefaultCapabilities},
		{[]string{"ALL"}, []string{"chown"}, without(sandbox.AllCapabilities(), "CAP_CHOWN")},
		{[]string{"NET_ADMIN"}, []string{"ALL"}, []string{"CAP_NET_ADMIN"}},
		{[]string{"ALL"}, []string{"ALL"}, []string{}},
		{nil, []string{"NET_RAW"}, without(sandbox.DefaultCapabilities, "CAP_NET_RAW")},
	} {
		got := capabilities(&runtimeapi.Capability{AddCapabilities: tc.add, DropCapabilities: tc.drop})
		if !slices.Equal(got, tc.want) {
			t.Errorf("add %v drop %v: %v, want %v", tc.add, tc.drop, got, tc.want)
		}
	}
	if capabilities(nil) != nil {
		t.Error("no capabilities field: want the default set (nil)")
	}
}

// TestContainerSecurity: privileged needs a privileged pod and overrides
// capabilities and paths; a container asking for a host namespace its pod
// lacks is refused.
func TestContainerSecurity(t *testing.T) {
	privPod := &runtimeapi.PodSandboxConfig{Linux: &runtimeapi.LinuxPodSandboxConfig{
		SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{Privileged: true}}}
	sc := &runtimeapi.LinuxContainerSecurityContext{Privileged: true, MaskedPaths: []string{"/x"},
		Capabilities: &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}}
	var spec sandbox.ContainerSpec
	if err := containerSecurity(sc, privPod, &spec); err != nil || !spec.Privileged || spec.Capabilities != nil || spec.MaskedPaths != nil {
		t.Fatalf("privileged: %v %+v", err, spec)
	}
	if err := containerSecurity(sc, &runtimeapi.PodSandboxConfig{}, &spec); status.Code(err) != codes.InvalidArgument {
		t.Errorf("privileged container in an unprivileged pod: %v", err)
	}
	hostPID := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_NODE}}
	if err := containerSecurity(hostPID, &runtimeapi.PodSandboxConfig{}, &spec); status.Code(err) != codes.InvalidArgument {
		t.Errorf("host PID container in a pod with its own: %v", err)
	}
	spec = sandbox.ContainerSpec{}
	paths := &runtimeapi.LinuxContainerSecurityContext{MaskedPaths: []string{"/bin/ls"}, ReadonlyPaths: []string{"/tmp"}}
	if err := containerSecurity(paths, &runtimeapi.PodSandboxConfig{}, &spec); err != nil ||
		!slices.Equal(spec.MaskedPaths, []string{"/bin/ls"}) || !slices.Equal(spec.ReadonlyPaths, []string{"/tmp"}) {
		t.Errorf("paths: %v %+v", err, spec)
	}
}
