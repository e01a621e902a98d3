//go:build linux

package manifest

import (
	"slices"
	"strings"
	"testing"

	"github.com/podkit/podkit/sandbox"
)

// TestSecurityFields: hostPID, hostIPC, privileged and capabilities
// reach the sandbox config and container spec, with containerd's order
// for add/drop ALL; hostPID with shareProcessNamespace is refused.
func TestSecurityFields(t *testing.T) {
	p, err := Parse([]byte(pod("  hostPID: true\n  hostIPC: true",
		"    securityContext:\n      privileged: true\n      capabilities: {add: [NET_ADMIN]}")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Config.HostPID || !p.Config.HostIPC {
		t.Errorf("config %+v", p.Config)
	}
	if s := p.Containers[0].Spec; !s.Privileged || s.Capabilities != nil {
		t.Errorf("privileged spec: %v %v", s.Privileged, s.Capabilities)
	}
	for _, tc := range []struct {
		caps string
		want []string
	}{
		{"{add: [ALL], drop: [CHOWN]}", slices.DeleteFunc(slices.Clone(sandbox.AllCapabilities()), func(c string) bool { return c == "CAP_CHOWN" })},
		{"{drop: [ALL], add: [NET_BIND_SERVICE]}", []string{"CAP_NET_BIND_SERVICE"}},
		{"{drop: [all]}", []string{}},
	} {
		p, err := Parse([]byte(pod("", "    securityContext:\n      capabilities: "+tc.caps)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Containers[0].Spec.Capabilities; !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.caps, got, tc.want)
		}
	}
	_, err = Parse([]byte(pod("  hostPID: true\n  shareProcessNamespace: true", "")), Options{})
	if err == nil || !strings.Contains(err.Error(), "spec.shareProcessNamespace") {
		t.Errorf("hostPID with shareProcessNamespace: %v", err)
	}
}
